"""Cues read off the words of a text: the deterministic half of the level's signals (研判依据).

The trained heads (classifiers.model) say how relevant, how sensitive, how alarming an item is,
whether the commission itself is its subject and what kind of text it is. The cues here are what a
reader checks by eye and what a model trained on our own writing may miss on a real page:

    fiction   chapter headings and novel-site chrome (第12章, 上一章, 加入书签), drama credits
    template  model-essay and keyword-page marks (范文, 20XX, 心得体会)
    case      the fixed formulas of a published case notice (涉嫌严重违纪违法, 开除党籍, 一审宣判)
    denied    an official denial (不实, 辟谣, 谣言)
    spread    signs that the item is spreading (热搜, 转发, 播放量, 网传)
    commission  the commission is named at all (纪委, 监委, 纪检, 巡察组 ...)
    accused   the commission itself accused, read across the whole text (classifiers.subject):
              shielding, sitting on a report, a leaked reporter, retaliation, its staff's own
              misconduct, harm in its own handling of a case
    complaint the marks of a citizen's report or petition, first-hand or relayed: 实名举报, 恳请,
              open letters, 12345 / 问政 / 留言板 threads and the platform's replies, "村民向记者
              反映", reports sent to a paper
    mass      a mass incident (群体性, 聚集, 对峙, 堵路, 数百名村民)
    alleged   an office holder openly accused of a wrong done in office, in a text that does not
              read as the matter's handling (classifiers.allegation)
    subject   who the text is about, by the words it uses: 纪委自身 / 点名官员 / 干部 / 机构 / 无

:func:`read_cues` reads them for a batch of texts already cleaned and normalised (simplified,
lower case), with one :class:`~classifiers.rules.WordFinder` pass over all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from classifiers.allegation import MISCONDUCT, accused_openly
from classifiers.rules import WordFinder
from classifiers.subject import accusations

__all__ = ["Cues", "SUBJECTS", "read_cues"]

#: The subject of a text, most specific first.
SUBJECTS = ("纪委自身", "点名官员", "干部", "机构", "无")

_GROUPS: dict[str, tuple[str, ...]] = {
    "fiction": (
        "上一章", "下一章", "加入书签", "推荐票", "月票", "书友", "本章完", "最新章节", "全文阅读",
        "txt下载", "全文下载", "章节目录", "小说", "网文", "主角", "剧中", "饰演", "主演", "电视剧",
        "网剧", "剧集", "大结局", "收视", "编剧", "剧情", "番外", "作者有话说"),
    "template": (
        "范文", "模板", "模版", "心得体会", "演讲稿", "发言稿", "述职报告", "自查报告", "20xx", "xx年",
        "xx月", "××", "xxx", "精选", "篇一", "篇二", "word版", "免费下载", "文库", "什么意思",
        "是什么意思"),
    "case": (
        "涉嫌严重违纪违法", "接受纪律审查和监察调查", "接受审查调查", "纪律审查和监察调查", "开除党籍",
        "开除公职", "主动投案", "一审宣判", "公开宣判", "判处有期徒刑", "判处无期徒刑", "移送检察机关",
        "移送审查起诉", "提起公诉", "受贿案", "典型问题", "政务处分", "党内警告", "党内严重警告",
        "留党察看", "立案审查调查", "留置措施", "被查", "落马", "双开",
        "案件质量评查", "案卷评查", "案卷质量", "卷宗", "案件审理", "审理室", "受贿罪", "贪污罪",
        "挪用公款罪", "滥用职权罪", "玩忽职守罪", "被判处", "获刑", "一审判决", "二审", "终审",
        "立案查处", "被立案"),
    # An official denial of a rumour, not a finding that a report was unfounded (举报不实).
    "denied": ("辟谣", "系谣言", "纯属谣言", "是谣言", "网传不实", "传言不实", "消息不实", "信息不实",
               "子虚乌有", "与事实不符", "官方否认", "予以否认", "造谣者"),
    "spread": (
        "热搜", "转发", "播放量", "阅读量", "刷屏", "网传", "疯传", "热传", "扩散", "引发关注",
        "引发热议", "网友热议", "视频", "点赞", "评论区", "围观"),
    "complaint": (
        "实名举报", "举报信", "联名信", "联名举报", "向记者反映", "向本报反映", "向记者举报", "本报热线",
        "读者来信", "网友举报", "微博举报", "发帖举报", "恳请", "恳求", "请求调查", "请上级", "请领导",
        "请求上级", "尊敬的", "我是", "我们是", "12345", "问政", "留言板", "领导信箱", "县长信箱",
        "市长信箱", "书记信箱", "求扩散", "讨说法", "上访", "信访", "公开信", "一封信", "联名",
        "陈情书", "求助信", "控告信", "申诉书", "举报材料", "举报人", "投诉人", "网友您好", "您反映的",
        "来信收悉", "已收悉", "留言时间", "回复时间", "答复意见", "办理结果", "民生热线", "市民热线",
        "网络问政", "楼主", "发帖", "网帖", "举报无门", "投诉无门", "求助无门", "反映无果", "多次反映",
        "多次举报", "多次投诉", "反映问题", "向媒体求助", "向记者求助", "向本报求助", "记者接到",
        "本报接到", "记者调查", "维权"),
    "mass": (
        "群体性事件", "聚集在", "聚集到", "围堵", "堵路", "对峙", "发生冲突", "肢体冲突", "爆发冲突",
        "打砸", "围攻", "拉横幅", "拉起横幅", "静坐", "数百名", "上百名", "几百名", "上千名", "数百村民",
        "上百村民", "警民冲突"),
    "commission": (
        "纪委", "监委", "纪检", "监察委", "纪工委", "监工委", "巡察组", "巡视组", "巡察办", "12388",
        # Only the commission detains (留置) under the supervision law.
        "留置期间", "留置点", "留置室"),
    "official": (
        "书记", "局长", "县长", "镇长", "乡长", "市长", "区长", "村支书", "村主任", "主任", "校长",
        "院长", "所长", "站长", "科长", "处长", "厅长", "部长", "队长", "支书", "主席", "检察长", "股长",
        "组长", "会计", "出纳", "文书"),
    "cadre": (
        "干部", "工作人员", "城管", "民警", "协管", "辅警", "公职人员", "村官", "官员", "公务员",
        "执法人员", "党员", "警察", "领导", "交警", "干警", "科员", "网格员", "执法队员", "法官",
        "检察官"),
    "institution": (
        "政府", "街道", "局", "委员会", "村委", "居委", "派出所", "法院", "检察院", "办事处", "管委会",
        "国企", "卫生院", "公立", "医保", "信访", "12345", "问政", "留言板", "乡里", "镇里", "县里",
        "市里", "区里", "林业站", "畜牧站", "农技站", "财政所", "国土所", "供电所", "敬老院"),
}

# What a relayed report is told to: found with the groups' words, so that _RELAYED is tried only
# on the texts that name one.
_RELAYED_TO = ("本报", "记者", "本台", "媒体", "编辑部", "本网", "报社", "栏目", "热线")
# A citizen's report relayed by a paper or a reporter, with words between (村民向本报记者反映,
# 多名家长致电本报投诉).
_RELAYED = re.compile(
    r"(?:村民|居民|群众|网友|市民|业主|家属|职工|员工|农户|农民工|工人|老人|读者|当事人|家长|教师|乡亲|"
    r"商户|摊主|司机|租户|学生)[^。！？\n]{0,16}(?:向|给|找到|联系|致电|来到|打进)[^。！？\n]{0,6}"
    rf"(?:{'|'.join(_RELAYED_TO)})[^。！？\n]{{0,8}}(?:反映|举报|投诉|爆料|求助|"
    r"讲述|诉说|反应|打来电话)")

# 第12章, 第一百零八节, 第3回: a chapter heading.
_CHAPTER = re.compile(r"第[0-9零〇一二三四五六七八九十百千两]{1,7}[章节回卷]")


@dataclass(frozen=True)
class Cues:
    """The cues of one text: which groups of words it has, and its subject."""

    fiction: bool
    template: bool
    case: bool
    denied: bool
    spread: tuple[str, ...]
    commission: bool
    subject: str
    accused: bool = False
    complaint: bool = False
    mass: bool = False
    accusation: str = ""  # which allegation against the commission (classifiers.subject)
    alleged: bool = False  # an office holder openly accused (classifiers.allegation)

    def names(self) -> tuple[str, ...]:
        """Short Chinese names of the cues present, for explanations."""
        out = []
        if self.fiction:
            out.append("线索:小说影视")
        if self.template:
            out.append("线索:模板")
        if self.case:
            out.append("线索:案件通报用语")
        if self.denied:
            out.append("线索:辟谣")
        if self.accused:
            out.append("线索:指向纪委" + (f":{self.accusation}" if self.accusation else ""))
        if self.complaint:
            out.append("线索:投诉举报")
        if self.alleged:
            out.append("线索:点名指控")
        if self.mass:
            out.append("线索:群体性事件")
        if self.spread:
            out.append("传播:" + "/".join(self.spread[:3]))
        return tuple(out)


class _Reader:
    def __init__(self):
        groups = {**_GROUPS, "relayed_to": _RELAYED_TO, "misconduct": MISCONDUCT}
        self.finder = WordFinder({w for group in groups.values() for w in group})
        column = self.finder.column
        self.columns = {name: np.array([column[w] for w in group], dtype=np.int64)
                        for name, group in groups.items()}
        self.spread_words = _GROUPS["spread"]

    def read(self, texts: list[str]) -> list[Cues]:
        found = self.finder.table(texts)
        has = {name: found[:, cols].any(axis=1) for name, cols in self.columns.items()}
        spread = found[:, self.columns["spread"]]
        named = np.flatnonzero(has["commission"]).tolist()
        accusation_of = dict(zip(named, accusations([texts[i] for i in named])))
        out = []
        for i, t in enumerate(texts):
            accusation = accusation_of.get(i, "")
            if has["official"][i]:
                subject = "点名官员"
            elif has["cadre"][i]:
                subject = "干部"
            elif has["institution"][i]:
                subject = "机构"
            else:
                subject = "无"
            out.append(Cues(
                fiction=bool(has["fiction"][i]) or _CHAPTER.search(t) is not None,
                template=bool(has["template"][i]), case=bool(has["case"][i]),
                denied=bool(has["denied"][i]),
                spread=tuple(w for w, on in zip(self.spread_words, spread[i]) if on),
                commission=bool(has["commission"][i]), subject=subject,
                accused=bool(accusation), accusation=accusation,
                complaint=bool(has["complaint"][i]) or (
                    bool(has["relayed_to"][i]) and _RELAYED.search(t) is not None),
                mass=bool(has["mass"][i]),
                alleged=bool(has["misconduct"][i]) and accused_openly(t)))
        return out


_READER: _Reader | None = None


def read_cues(texts: list[str]) -> list[Cues]:
    """The :class:`Cues` of each cleaned, normalised text."""
    global _READER
    if _READER is None:
        _READER = _Reader()
    return _READER.read(texts)
