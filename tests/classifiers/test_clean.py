"""Mirror-site damage and portal boilerplate are removed before a text is judged."""

from __future__ import annotations

from classifiers.clean import clean, prepare


def test_pinyin_after_characters_is_removed_in_both_shapes():
    assert clean("縣紀(jì)委監(jiān)委通報問（wèn）題") == "縣紀委監委通報問題"
    assert clean("据中央纪jì委wěi国家监jiān委wěi网站消息") == "据中央纪委国家监委网站消息"


def test_english_and_numbers_stay():
    text = "iPhone 15 and a Python test，共3人 in 2024"
    assert clean(text) == text


def test_mojibake_runs_and_anti_scraping_junk_go():
    out = clean("????????县委书记对村民讲话。\n* U\" `: f\" c1 s( |- m\nx5 m5 T* E6 Q村民仍不放心。")
    assert "?" not in out and "x5" not in out and "c1" not in out
    assert "县委书记对村民讲话" in out and "村民仍不放心" in out


def test_junk_between_tabs_or_closing_a_line_goes_and_parentheses_without_pinyin_stay():
    # The quick tests that decide whether to look for junk or pinyin at all must let these by.
    assert clean("村民仍不放心。\tx5\tm5\t*T\tQ\n县委书记讲话。") == "村民仍不放心。\t \n县委书记讲话。"
    assert clean("会议(2026)在县城（北区）召开，纪(jì)委") == "会议(2026)在县城（北区）召开，纪委"
    assert clean("a b c d") == "a b c d" and clean("a b c") == "a b c"


def test_kangxi_radicals_become_ordinary_characters():
    assert prepare("⼀个⼈在⼯作") == "一个人在工作"


def test_repost_prefix_credit_lines_buttons_and_related_links_go():
    body = "某镇干部酒后殴打村民的视频在网上流传，县里已成立调查组，涉事干部已停职。" * 2
    damaged = (f"【转载】{body}\n\n打开网易新闻 查看精彩图片\n\n来源：某某网\n责任编辑：王某\n"
               "相关阅读：\n某地化工厂爆炸 三人受伤\n秋季养生喝什么茶")
    out = clean(damaged)
    assert "转载" not in out and "网易新闻" not in out and "责任编辑" not in out
    assert "爆炸" not in out and "养生" not in out
    assert out.strip() == body


def test_an_early_mention_of_related_news_is_not_cut():
    text = "相关新闻显示，某县纪委监委通报了3起违规吃喝问题，涉及多名干部。" * 3
    assert clean(text) == text
