"""Near-identical reposts of one story get the same level and office.

The stories and their variants are written here, in the shapes the real feed gives them: a repost
prefix (转发, 【转载】), a source or editor line, portal button text, a trailing list of related
links, a few characters changed, and the story converted to traditional script.
"""

from __future__ import annotations

import opencc
import pytest

from classifiers import registry
from classifiers.rules import load_rules
from classifiers.scorer import ModelScorer

STORIES = {
    "commission_accused": (
        "举报一年没人管，镇纪委却把材料给了被举报人",
        "我是某镇某村的党员，去年三月向镇纪委实名举报村支书虚报危房改造户、套取补助资金，"
        "附了名单和照片。一年过去，没有任何调查和答复。上个月村支书拿着我的举报材料复印件找上门，"
        "说我告他的东西他都看过了。我想问镇纪委，到底是在查问题还是在保护问题？"),
    "viral_video": (
        "网传街道工作人员推倒老人 区里通报停职调查",
        "近日，一段街道工作人员在入户时与七旬老人争执并将其推倒在台阶上的视频在网上流传，"
        "播放量很快超过百万，网友纷纷要求严查。昨晚，区里通报称涉事人员系街道网格员，"
        "已停职接受调查，区纪委监委已介入。"),
    "case_notice": (
        "清河县交通运输局原局长主动投案",
        "据清河县纪委监委消息：县交通运输局原党组书记、局长王某某涉嫌严重违纪违法，主动投案，"
        "目前正接受县纪委监委纪律审查和监察调查。"),
    "complaint": (
        "村干部把低保名额给了自家亲戚",
        "尊敬的领导：我是某乡某村村民，家里老人瘫痪在床，申请低保三年没有批。村主任的弟弟家开着货车跑运输，"
        "一家人却都吃上了低保。去村委会问，村主任说名额早满了。恳请上级派人核查。"),
    "accident": (
        "货车侧翻致高速拥堵 一人受伤",
        "今天上午，一辆满载建材的货车在高速公路下坡路段侧翻，司机受轻伤被送医，"
        "双向交通拥堵十余公里。交警和路政部门已清理现场，事故原因正在调查中。"),
    "work_news": (
        "县纪委监委开展廉洁文化进校园活动",
        "为推动廉洁文化向校园延伸，县纪委监委联合县教育局在全县中小学开展廉洁文化进校园活动，"
        "通过廉洁故事会、书法比赛和主题班会，引导学生从小崇廉尚洁。"),
}

TRAD = opencc.OpenCC("s2t")


def variants(title: str, body: str) -> dict[str, str]:
    story = f"{title}\n{body}"
    return {
        "as published": story,
        "转发 prefix": f"转发：{story}",
        "【转载】 prefix": f"【转载】{title}\n{body}",
        "source line": f"{story}\n来源：某某新闻网\n责任编辑：李某",
        "portal buttons": f"{title}\n打开网易新闻 查看精彩图片\n{body}",
        "related links": f"{story}\n\n相关阅读：\n某地暴雨致多处内涝\n秋季进补吃什么好",
        "few characters changed": story.replace("，", ",", 2).replace("近日", "日前").replace("今天", "当天"),
        "traditional script": TRAD.convert(story),
    }


@pytest.fixture(scope="module")
def scorer() -> ModelScorer:
    return ModelScorer(registry.load(), load_rules())


@pytest.mark.parametrize("name", sorted(STORIES))
def test_reposts_of_one_story_get_one_level_and_one_office(scorer, name):
    versions = variants(*STORIES[name])
    judged = dict(zip(versions, scorer.judge_many(list(versions.values()))))
    first = judged["as published"]
    for label, j in judged.items():
        assert (j.level, j.department) == (first.level, first.department), (name, label)


def test_the_stories_cover_every_level(scorer):
    """Keeps the test above meaningful: the stories are judged at 0, 1, 2 and 3."""
    levels = {name: j.level for name, j in zip(
        STORIES, scorer.judge_many([f"{t}\n{b}" for t, b in STORIES.values()]))}
    assert levels == {"commission_accused": 3, "viral_video": 2, "case_notice": 1,
                      "complaint": 2, "accident": 0, "work_news": 1}
