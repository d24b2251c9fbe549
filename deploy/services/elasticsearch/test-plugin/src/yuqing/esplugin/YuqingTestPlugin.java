/*
 * Fills the gaps of the Elasticsearch test node that our code relies on.
 *
 * Why this exists: the only Elasticsearch 9 distribution published on Maven
 * Central is the "integ-test-zip": the real server, with four modules
 * (transport-netty4, x-pack-core, x-pack-security, apm). The full
 * distribution and the official Docker image used in production have about
 * forty more. Two of the missing ones matter to us:
 *
 *   analysis-common  the `cjk` analyzer, the `cjk_width` and `cjk_bigram`
 *                    token filters and the `whitespace` tokenizer that our
 *                    mappings use for Chinese text (中文二元切分);
 *   rest-root        `GET /` and `HEAD /`, which the Python client's info()
 *                    and ping() call to check the connection.
 *
 * This plugin provides exactly those, over the same Lucene classes and with
 * the same settings and response fields, so that what works here works in
 * production. deploy/services/elasticsearch.sh compiles it against the jars
 * of the distribution it is installed into: a change in the server's plugin
 * API shows up as a compile error at start, not as different behaviour.
 * It is never installed in production.
 */
package yuqing.esplugin;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.PreConfiguredTokenizer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.RestHandler;

public class YuqingTestPlugin extends Plugin implements AnalysisPlugin, ActionPlugin {

    // Set by createComponents, which the node calls before it builds the REST handlers.
    private volatile ClusterService clusterService;

    @Override
    public Collection<?> createComponents(PluginServices services) {
        clusterService = services.clusterService();
        return List.of();
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
        RestHandlersServices services,
        Supplier<DiscoveryNodes> nodesInCluster,
        Predicate<NodeFeature> clusterSupportsFeature
    ) {
        return List.of(new RestRootAction(() -> clusterService));
    }

    // Configurable components: {"type": "cjk_bigram", "output_unigrams": true} etc.

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("cjk", CjkAnalysis.CjkAnalyzerProvider::new);
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "cjk_width", (indexSettings, env, name, settings) -> new CjkAnalysis.CjkWidthFilterFactory(name),
            "cjk_bigram", (indexSettings, env, name, settings) -> new CjkAnalysis.CjkBigramFilterFactory(name, settings)
        );
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of(
            "whitespace", (indexSettings, env, name, settings) -> new CjkAnalysis.WhitespaceTokenizerFactory(name, settings)
        );
    }

    // Pre-configured components: usable by name in a mapping or in _analyze
    // without being defined in the index settings first.

    @Override
    public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
        return List.of(new PreBuiltAnalyzerProviderFactory("cjk", CachingStrategy.LUCENE, CJKAnalyzer::new));
    }

    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        // Width folding is safe in normalizers (keyword fields); bigrams are not.
        return List.of(
            PreConfiguredTokenFilter.singleton("cjk_width", true, CJKWidthFilter::new),
            PreConfiguredTokenFilter.singleton("cjk_bigram", false, CJKBigramFilter::new)
        );
    }

    @Override
    public List<PreConfiguredTokenizer> getPreConfiguredTokenizers() {
        return List.of(PreConfiguredTokenizer.singleton("whitespace", WhitespaceTokenizer::new));
    }
}
