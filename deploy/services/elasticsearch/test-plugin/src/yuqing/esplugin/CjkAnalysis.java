/*
 * The CJK analysis components of analysis-common, re-registered for the test
 * node (see YuqingTestPlugin for why). Each wraps the Lucene class that
 * analysis-common wraps and reads the same settings with the same defaults.
 */
package yuqing.esplugin;

import java.util.List;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.lucene.analysis.miscellaneous.DisableGraphAttribute;

final class CjkAnalysis {

    private CjkAnalysis() {}

    /** {"type": "cjk"}: overlapping CJK bigrams, Lucene's default stop words unless `stopwords` says otherwise. */
    static final class CjkAnalyzerProvider extends AbstractIndexAnalyzerProvider<CJKAnalyzer> {
        private final CJKAnalyzer analyzer;

        CjkAnalyzerProvider(IndexSettings indexSettings, Environment env, String name, Settings settings) {
            super(name);
            analyzer = new CJKAnalyzer(Analysis.parseStopWords(env, settings, CJKAnalyzer.getDefaultStopSet()));
        }

        @Override
        public CJKAnalyzer get() {
            return analyzer;
        }
    }

    /** Folds full-width Latin letters and digits to ASCII and half-width katakana to full width. */
    static final class CjkWidthFilterFactory extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        CjkWidthFilterFactory(String name) {
            super(name);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new CJKWidthFilter(tokenStream);
        }
    }

    /**
     * Overlapping bigrams of CJK characters (会昌县 becomes 会昌, 昌县). Scripts
     * listed in `ignored_scripts` (han, hiragana, katakana, hangul) stay single
     * characters; `output_unigrams: true` emits every single character as well,
     * so one-character queries match.
     */
    static final class CjkBigramFilterFactory extends AbstractTokenFilterFactory {
        private final int flags;
        private final boolean outputUnigrams;

        CjkBigramFilterFactory(String name, Settings settings) {
            super(name);
            // Unknown script names are ignored, as analysis-common does, so a
            // mapping accepted in production is accepted here too.
            List<String> ignored = settings.getAsList("ignored_scripts", List.of());
            int f = 0;
            if (ignored.contains("han") == false) f |= CJKBigramFilter.HAN;
            if (ignored.contains("hiragana") == false) f |= CJKBigramFilter.HIRAGANA;
            if (ignored.contains("katakana") == false) f |= CJKBigramFilter.KATAKANA;
            if (ignored.contains("hangul") == false) f |= CJKBigramFilter.HANGUL;
            flags = f;
            outputUnigrams = settings.getAsBoolean("output_unigrams", false);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            CJKBigramFilter filter = new CJKBigramFilter(tokenStream, flags, outputUnigrams);
            if (outputUnigrams) {
                // Unigrams and bigrams overlap without forming a proper token
                // graph; query parsers must not expand it into paths.
                filter.addAttribute(DisableGraphAttribute.class);
            }
            return filter;
        }
    }

    /** Splits on whitespace only; longer tokens than `max_token_length` (default 255) are cut. */
    static final class WhitespaceTokenizerFactory extends AbstractTokenizerFactory {
        private final int maxTokenLength;

        WhitespaceTokenizerFactory(String name, Settings settings) {
            super(name);
            maxTokenLength = settings.getAsInt("max_token_length", 255);
        }

        @Override
        public Tokenizer create() {
            return new WhitespaceTokenizer(WhitespaceTokenizer.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, maxTokenLength);
        }
    }
}
