"""Test helpers that other packages' tests need too: complaints written on one template, what
reposting does to a text, and a scorer whose levels the test decides.

The texts are our own, in the shapes the real feed gives them (issue 18): the Weibo template
(``#会昌 实名举报# … 求扩散！@会昌县纪委监委``) and the usual plea before and after a complaint.
"""

from __future__ import annotations

from typing import Callable

from pipeline.records import Article, ScoredArticle

__all__ = ["COMPLAINTS", "weibo_post", "plea_post", "reposts", "ScriptedScorer"]

#: Eight complaints about eight people in eight towns: (town, post, person, what they did).
COMPLAINTS = [("周田镇", "党委副书记", "张建华", "在危房改造中收受好处费三万元"),
              ("麻州镇", "财政所所长", "刘某某", "挪用扶贫资金二十万元炒股"),
              ("筠门岭镇", "羊角村村支书", "李春生", "侵占集体山林私自转包"),
              ("文武坝镇", "城管中队长", "王某", "酒后殴打摆摊老人"),
              ("庄口镇", "卫生院院长", "陈某某", "虚开药品发票套取医保基金"),
              ("西江镇", "中心小学校长", "赵某", "克扣学生营养餐补助"),
              ("站塘乡", "林业站站长", "孙某某", "违规审批采伐证收受礼金"),
              ("右水乡", "党委书记", "周某某", "公车私用接送孩子上学")]


def weibo_post(town: str, post: str, person: str, deed: str) -> str:
    """The Weibo template: the topic, the complaint, the plea and the commission's account."""
    return (f"#会昌 实名举报# 本人实名举报{town}{post}{person}{deed}，请会昌县纪委监委调查处理！"
            "求扩散！@会昌县纪委监委")


def plea_post(town: str, post: str, person: str, deed: str) -> str:
    """The usual plea, before and after the complaint."""
    return ("本人以真实姓名实名举报，所反映问题属实，本人愿承担一切法律责任！求扩散！求转发！\n"
            f"{town}{post}{person}{deed}，群众敢怒不敢言。\n"
            "恳请上级纪委监委彻查此事，还老百姓一个公道！本人以真实姓名实名举报，求扩散！求转发！")


def reposts(text: str) -> dict[str, str]:
    """What reposting does to a text: a prefix, a source line, a few characters, the script."""
    import opencc  # deferred: its tables load at import

    return {"转发 prefix": f"转发：{text}",
            "【转载】 prefix": f"【转载】{text}",
            "source line": f"{text}\n来源：微博 责任编辑：李某",
            "few characters changed": text.replace("，", ",", 1).replace("本人", "我", 1),
            "traditional script": opencc.OpenCC("s2t").convert(text)}


class ScriptedScorer:
    """A scorer (:class:`classifiers.stage.Scorer`) whose level for an article is
    ``levels(article)``: a model that judges reposts of one story apart, or all alike."""

    version = "scripted"

    def __init__(self, levels: Callable[[Article], int], department: str = "信访室"):
        self.levels = levels
        self.department = department

    def score(self, article: Article) -> ScoredArticle:
        level = self.levels(article)
        return ScoredArticle.from_article(
            article, relevance=0.2 + 0.25 * level, sensitivity=0.25 * level, level=level,
            department=self.department if level else "", model_version=self.version,
            explanation=(f"scripted:{level}",))

    def score_many(self, articles: list[Article]) -> list[ScoredArticle]:
        return [self.score(a) for a in articles]
