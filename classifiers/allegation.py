"""Is an official or cadre openly accused of misconduct? Read sentence by sentence (点名指控).

The heads learn how our own texts sound. A real complaint often sounds otherwise: a villager's
plight told with feeling, an online reporting campaign told by an analyst. The heads then read
it as calm (not sensitive, no event) although it accuses a cadre of taking money. This reading
looks for the accusation itself, in one sentence: a person in office (村支书, 局长, 干部, 镇政府)
and a wrong done in office (侵吞, 截留, 索要, 殴打, 强拆, 保护伞 ...).

It is not an accusation when:

- the sentence states a rule or enforcement (严禁公款吃喝, 坚决查处, 专项整治): the
  commission's and the government's own texts use every misconduct word this way;
- the accused are "some" in general (部分校长, 个别干部, 一些地方): commentary, not a case;
- the sentence asks how things work (能否, 如何举报, 是否可以): a consultation;
- the text reads as the matter's handling: a reply on a message board (网友您好, 经核查, 现答复
  如下), a finding (经查, 查实, 情况属实), a sentence or a punishment given (给予…处分, 被判处,
  开除党籍). A handled matter is 一般 by the rubric, however grave the words.

Like the reading of allegations against the commission (classifiers.subject), this is a cue,
not the decision: classifiers.levels gives 较大 on it only for a complaint or an item that is
spreading, and only where the event head gives at least a bar chosen in training.
"""

from __future__ import annotations

import re

__all__ = ["MISCONDUCT", "OFFICE_HOLDERS", "accused_openly"]

#: Wrongs done in office, as complaints and reports name them.
MISCONDUCT = (
    # money
    "贪污", "侵吞", "侵占", "私吞", "私分", "挪用", "截留", "克扣", "冒领", "套取", "虚报", "骗取",
    "中饱私囊", "敛财", "贱卖", "吃空饷", "账目不公开", "白条", "乱收费", "乱收", "乱罚款", "乱摊派",
    # bribes and favours
    "受贿", "索贿", "索要", "收受", "好处费", "回扣", "红包", "吃拿卡要", "权钱交易", "利益输送",
    "优亲厚友", "暗箱操作", "以权谋私", "谋取私利", "买官卖官", "跑官要官", "行贿",
    # power against citizens
    "滥用职权", "徇私", "玩忽职守", "欺压", "霸占", "强占", "强拆", "殴打", "打人", "辱骂", "恐吓",
    "威胁", "欺负", "打压", "非法拘禁", "打击报复", "刁难", "涉黑", "涉恶", "黑恶", "保护伞", "村霸",
    # falsehood and the four winds
    "弄虚作假", "伪造", "造假", "公款吃喝", "公款旅游", "公车私用", "大操大办", "包养", "情妇",
    "违规占地", "违建",
)

#: Who holds office, from the village up (titles first, then groups and bodies).
OFFICE_HOLDERS = (
    "书记", "支书", "村主任", "主任", "村长", "组长", "镇长", "乡长", "县长", "市长", "区长", "局长",
    "所长", "站长", "校长", "院长", "科长", "处长", "厅长", "队长", "会计", "出纳", "文书", "干部",
    "村干部", "村官", "两委", "村委", "工作人员", "公职人员", "官员", "公务员", "民警", "城管",
    "执法人员", "领导", "镇政府", "乡政府", "镇里", "乡里", "街道", "派出所",
)

_MISCONDUCT = re.compile("|".join(map(re.escape, sorted(MISCONDUCT, key=len, reverse=True))))
_HOLDER = re.compile("|".join(map(re.escape, sorted(OFFICE_HOLDERS, key=len, reverse=True))))
_SENTENCES = re.compile(r"[^。！？!?；;\n]+")
_CLAUSES = re.compile(r"[^，,：:]+")
# The sentence as a rule, a warning or enforcement.
_RULE = re.compile(
    r"严禁|禁止|不得|不准|防止|杜绝|严防|防范|坚决|刹住|零容忍|一律|决不|绝不|一经查实|必须|警示|"
    r"查处|严查|严惩|惩治|打击|整治|专项行动|专项治理|治理|教育|以案为鉴|以案促改|典型案例|典型问题|规定|条例|"
    r"办法|通知|意见|要求|倡议|切实|进一步|深入|持续|推进|开展|落实|解决")
# Some office holders in general, not someone in particular.
_GENERIC = re.compile(r"个别|一些|少数|极少数|部分|有的|有些|某些|各地|多地|不少")
# A question about how things work, not an accusation.
_ASKING = re.compile(r"能否|可否|能不能|可不可以|是否可以|是否需要|是否应该|如何|怎么办|怎样|应该向|该向|"
                     r"向哪|哪个部门|请问|咨询")
# The matter as handled: a reply, a finding, a punishment or a sentence given.
_HANDLED = re.compile(
    r"尊敬的网友|网友您好|网友你好|留言人您好|来信人您好|您好！您反映|您反映的|来信收悉|已收悉|现答复|现回复|答复如下|"
    r"回复如下|经查|经核查|经核实|经调查|核查发现|调查发现|查实|情况属实|基本属实|部分属实|不属实|"
    r"已办结|办理结果|处理结果|处理情况|给予[^，。]{0,12}处分|被给予|党内警告|党内严重警告|诫勉|"
    r"开除党籍|开除公职|政务处分|立案审查|被立案|被留置|被查|落马|被判处|判处|一审|二审|宣判|获刑")


def accused_openly(text: str) -> bool:
    """Whether a sentence of ``text`` (cleaned, normalised) accuses an office holder of a wrong
    done in office, and the text does not read as the matter's handling (module docstring)."""
    # No scan of the whole text for a misconduct word first: the caller (classifiers.signals)
    # reads only texts its word finder found one in, and each sentence is asked below.
    if _HANDLED.search(text) is not None:
        return False
    for sentence in _SENTENCES.findall(text):
        if _MISCONDUCT.search(sentence) is None or not _someone_in_office(sentence):
            continue
        # A rule or a question is told in the clause of the wrong itself (严禁公款吃喝, 村干部
        # 能否…): a comma further on may start the analyst's own words (基层治理的困境).
        for clause in _CLAUSES.findall(sentence):
            if (_MISCONDUCT.search(clause) and not _RULE.search(clause)
                    and not _ASKING.search(clause)):
                return True
    return False


def _someone_in_office(sentence: str) -> bool:
    """An office holder in particular: not "some cadres" (部分村干部, 个别校长、后勤主任)."""
    for clause in _CLAUSES.findall(sentence):
        for m in _HOLDER.finditer(clause):
            if not _GENERIC.search(clause, 0, m.start()):
                return True
    return False
