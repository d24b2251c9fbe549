"""Is the commission itself the subject of an allegation? Read across the whole text (纪委自身).

A real allegation against a commission is rarely one phrase. It is told: villagers report a
cadre to the town 纪委, two paragraphs later the report "sank like a stone", later still the
secretary who took it is said to protect the cadre, or the reporter's letter turns up in the
hands of the man it accused. The words that carry the allegation sit sentences apart from the
word 纪委. :func:`commission_accused` reads a text sentence by sentence and says which kind of
allegation against the commission it finds, if any:

    自身   a commission official's own misconduct (纪委书记 … 受贿, 被查, 酒驾; 纪委书记的儿子 …
           中标), the official named first and the misconduct after, with no speech or
           enforcement between;
    办案   harm in the commission's own handling of a case (留置期间死亡, 谈话后坠楼, 逼供);
    泄露   a reporter's identity or letter reached the people reported (told in one sentence or
           two), within a few sentences of the commission being named, or anywhere after a
           report was handed to it;
    报复   a reporter threatened or punished by the commission (named as the actor);
    包庇   the commission (named as the actor, not as the addressee of a report) shields, waves
           through or will not act: 包庇, 保护伞, 轻描淡写, 躺平, 走过场, 不予受理 ...;
    压案   a report came to nothing (石沉大海, 没有下文, 不了了之 ...) in a sentence that names
           the commission, right after one that does, or anywhere after the text says the
           report was handed to the commission (交到了乡纪委 … two years on, 石沉大海);
    点名   an official introduced by a commission title (县纪委书记王某某) is later accused by
           name.

A sentence that shows the commission enforcing or warning (查处, 给予…处分, 严禁, 依纪依法,
零容忍, 警示 ...) is not read as an allegation, and neither is a commission's report on someone
else (经查, 涉嫌, 调查发现) between the commission and the accusation: the commission's own
notices use every one of these words about other people. The reading is a cue, not the
decision: the commission head and a threshold chosen in training decide the level
(classifiers.levels).
"""

from __future__ import annotations

import re
from types import MappingProxyType

import numpy as np

from classifiers.rules import WordFinder

__all__ = ["ACCUSATIONS", "PATTERNS", "TRIGGERS", "accusations", "commission_acts",
           "commission_accused", "might_accuse", "staff_misconduct"]

#: The kinds of allegation, in the order they are looked for (the first found is named).
ACCUSATIONS = ("自身", "办案", "泄露", "报复", "包庇", "压案", "点名")

_BODY = r"(?:纪委|监委|纪检|监察委|纪工委|巡察组|巡视组|巡察办)"
_BODY_RE = re.compile(_BODY)
# The commission as the one a report is sent to, asked or appealed to: not (yet) an actor.
_ADDRESSEE = re.compile(r"(?:向|给|找|请|呼吁|要求|恳请|请求|希望|求助|交由|移交|转交|报送|提交|寄给|寄到|"
                        r"寄往|送到|送往|递交|交到|交给|写给|投到|反映到|举报到|投诉到|告到)(?:了)?"
                        r"[^，。！？；,!?;\n]{0,8}$")
# A statement about some commission staff in general (个别纪检干部), not an allegation.
_GENERIC = re.compile(r"(?:个别|一些|少数|极少数|部分|有的|有些)[^，。！？；,!?;\n]{0,4}$")
# Enforcement, rules, warnings and self-policing: the commission acting on someone's wrongdoing.
_ENFORCING = re.compile(
    r"查处|查办|立案|严肃处理|严肃追责|追责|问责|处分|开除|严禁|禁止|不得|防止|杜绝|严防|防范|零容忍|"
    r"依纪依法|依规依纪|依法依规|警示|提醒|专项整治|严惩|惩治|坚决|一律|保护举报人|保障举报人|督办|"
    r"责令|整改|队伍建设|自我监督|自我净化|典型问题|典型案例|通报批评|予以通报|进行通报|整治|专项行动")
# Between the commission and an accusation: the commission reporting on someone else.
_REPORTING = re.compile(r"经查|查明|查实|核查|核实|调查|发现|审查|涉嫌|通报|消息|发布|披露|指出|强调|表示|是否")
_SHIELD = re.compile(
    r"包庇|袒护|庇护|保护伞|官官相护|护短|放水|手下留情|轻描淡写|避重就轻|大事化小|小事化了|躺平|走过场|"
    r"敷衍|搪塞|推诿|踢皮球|捂盖子|压案|压着|压下|不查|不予立案|不予受理|不受理|拒收|拒不受理|"
    r"拒绝受理|不作为|视而不见|置之不理|不闻不问|睁一只眼|选择性|查无实据|通风报信|跑风漏气|收了钱|收钱|"
    r"沆瀣一气|串通|勾结|打招呼|说情|摆平|失职|渎职|一声不吭|不吭声|装聋作哑|充耳不闻|不归[^，。]{0,4}管|"
    r"不属于[^，。]{0,6}受理范围|护着|打过招呼|打了招呼|走个程序|走程序|走形式")
_FATE = re.compile(
    r"石沉大海|没有下文|没了下文|没有回音|毫无回音|杳无音信|音讯全无|不了了之|无人理睬|无人过问|无人问津|"
    r"没有任何回复|没有任何答复|没有任何调查|迟迟没有|迟迟不|至今没有|至今未|反映无果|举报无果|没有结果|"
    r"没有人管|没人管|一拖再拖|推来推去|转来转去|层层转办|被退回|原件退回|转交[^，。]{0,6}自查|转属地|"
    r"转给被举报|转回被举报|没消息|没有消息|没有任何结论|没有结论")
# The fate of a report, not of anything else (事件恐怕不了了之), and a fact, not a fear (怕石沉大海).
_REPORTED = re.compile(r"举报|反映|投诉|信访|上访|来信|材料|检举|控告")
_FEARED = re.compile(r"(?:怕|担心|害怕|以免|免得|不要让|不能让|避免)[^，。！？；,!?;\n]{0,4}$")
_REPORT = (r"(?:举报人|举报者|举报信|举报材料|举报内容|举报的材料|举报件|检举信|检举人|反映人|投诉人|信访人|"
           r"实名反映)")
_EXPOSED = (r"(?:泄露|泄漏|外泄|透露|转给|转到|交给|落到|落入|到了|手里|手上|拿着|拿到|看过|写出|写明|"
            r"公开了|公布了|曝光了|暴露|告诉了|流出|流到|写上|写入|印上|出现在)")
_LEAK = re.compile(_REPORT + r"[^。！？；\n]{0,16}" + _EXPOSED + "|" + _EXPOSED + r"[^。！？；\n]{0,16}"
                   + _REPORT)
# A reporter's name or number passed on, where a report is spoken of nearby (我的名字只填在举报平台上！
# 到底是谁泄露的？): the identity in this sentence or the one before, the passing-on in this one.
_IDENTITY = re.compile(r"名字|姓名|全名|电话|手机号|身份|住址|个人信息")
_EXPOSING = re.compile(r"泄露|泄漏|外泄|透露|给了|告诉|转给|交给")
# How a rule or a question about leaks reads (严格保密, 会不会泄露): not a report of one.
_ASKING = re.compile(r"保密|会不会|能不能|是否会|怎样|如何|一些地方|个别地方|有的地方|多地|时有发生|屡有")
_RETALIATION = re.compile(r"打击报复|报复|威胁|恐吓|穿小鞋|找上门|上门警告|逼我|逼他|逼迫|殴打|拘禁|软禁|"
                          r"后果自负|撤回|写保证书")
_CUSTODY = re.compile(r"留置期间[^，。]{0,4}(?:死亡|身亡|坠楼|自杀|受伤)|留置点[^，。]{0,8}(?:死亡|身亡)|逼供|"
                      r"刑讯|诱供|(?:谈话|留置)[^，。]{0,6}(?:后|期间)[^，。]{0,6}(?:坠楼|死亡|身亡|自杀)")
# A commission official (a title after the body, perhaps with its office between: 纪委监委
# 第二审查调查室原副主任), and (group 1) what follows the title: perhaps a name.
_STAFF = re.compile(
    r"(?:纪委|监委|纪检|纪工委|纪检组|巡察组|巡视组)(?P<office>[^，。！？；：、,:\s对向给和与及]{0,8}?)(?:的)?(?:原)?(?:副)?"
    r"(?:书记|常委(?!会)|委员(?!会)|主任|组长|干部|工作人员|办案人员|人员)(?:的)?(?P<name>[\u4e00-\u9fff]{2,3})?")
# The family of a commission official doing business or being favoured (纪委书记的儿子 … 中标).
_FAMILY = re.compile(r"(?:的)?(?:儿子|女儿|妻子|老婆|丈夫|弟弟|哥哥|姐姐|妹妹|亲属|亲戚|小舅子|家人|女婿)")
_OWN = re.compile(
    r"被查|双开|开除党籍|被留置|受贿|收受|收了|索要|索贿|酒驾|醉驾|泄露|泄密|宴请|吃请|敲诈|落马|肇事|"
    r"通风报信|跑风漏气|以案谋私|赌博|嫖娼|打人|违纪|违法|打牌|会所|喝酒|聚餐|婚宴|礼金")
# Rules and warnings about commission staff in general (严禁跑风漏气, 零容忍), not a case.
_RULES = re.compile(r"严禁|禁止|不得|防止|杜绝|严防|零容忍|坚决|一律|决不|绝不|一经查实|要求|必须|警示|"
                    r"典型案例|以案为鉴|以案促改")
# Someone posing as commission staff (a fraud), not commission staff.
_POSING = re.compile(r"(?:自称|冒充|假冒|谎称|假扮)[^，。！？；,!?;\n]{0,8}$")
# A police bureau's or court's own discipline secretary is not the commission (公安局纪委书记).
_OTHER_BODY = re.compile(r"(?:局|公安|派出所|法院|检察院|监狱)(?:党委委员|党委副书记)?[、，,的]?$")
# What may stand between a body and a title inside an office's name, and what may not.
_NOT_OFFICE = re.compile(r"通报|消息|介入|发布|披露|表示|经查|查明|已|正在|是否")
_SPEECH = re.compile(r"强调|指出|要求|表示|讲话|部署|主持|带队|督导|走访|调研|介绍|提醒|告诫|宣布|决定|研究|"
                     r"批准|会议|给予|说|对|就|向")
# Common surnames: what follows a title is taken for a name only when it starts with one.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝")
_SENTENCES = re.compile(r"[^。！？!?；;\n]+")
#: Literal words of which every reading needs at least one in the sentence it fires on: they
#: pick the few sentences worth reading (one pass over the text) and skip the rest.
TRIGGERS = (
    # shielding, waving through, refusing a report
    "包庇", "袒护", "庇护", "保护伞", "官官相护", "护短", "护着", "放水", "手下留情", "轻描淡写",
    "避重就轻", "大事化小", "小事化了", "躺平", "走过场", "走个程序", "走程序", "走形式", "敷衍", "搪塞",
    "推诿", "踢皮球", "捂盖子", "压案", "压着", "压下", "不查", "不予立案", "不予受理", "不受理", "拒收",
    "拒不受理", "拒绝受理", "不作为", "视而不见", "置之不理", "不闻不问", "睁一只眼", "选择性", "查无实据",
    "通风报信", "跑风漏气", "收了钱", "收钱", "沆瀣一气", "串通", "勾结", "打招呼", "打过招呼", "打了招呼",
    "说情", "摆平", "失职", "渎职", "一声不吭", "不吭声", "装聋作哑", "充耳不闻", "不归", "受理范围",
    # a report that came to nothing
    "石沉大海", "没有下文", "没了下文", "没有回音", "毫无回音", "杳无音信", "音讯全无", "不了了之",
    "无人理睬", "无人过问", "无人问津", "没有任何回复", "没有任何答复", "没有任何调查", "迟迟没有", "迟迟不",
    "至今没有", "至今未", "反映无果", "举报无果", "没有结果", "没有人管", "没人管", "一拖再拖", "推来推去",
    "转来转去", "层层转办", "被退回", "原件退回", "转交", "转属地", "转给被举报", "转回被举报", "没消息",
    "没有消息", "没有任何结论", "没有结论",
    # retaliation
    "报复", "威胁", "恐吓", "穿小鞋", "找上门", "上门警告", "逼我", "逼他", "逼迫", "殴打", "拘禁", "软禁",
    "后果自负", "撤回", "写保证书",
    # a staff member's own misconduct, and family
    "被查", "双开", "开除党籍", "被留置", "受贿", "收受", "收了", "索要", "索贿", "酒驾", "醉驾", "泄密",
    "宴请", "吃请", "敲诈", "落马", "肇事", "以案谋私", "赌博", "嫖娼", "打人", "违纪", "违法", "打牌",
    "会所", "喝酒", "聚餐", "婚宴", "礼金", "儿子", "女儿", "妻子", "老婆", "丈夫", "弟弟", "哥哥", "姐姐",
    "妹妹", "亲属", "亲戚", "小舅子", "家人", "女婿",
    # a reporter exposed
    "泄露", "泄漏", "外泄", "透露", "转给", "转到", "交给", "落到", "落入", "到了", "手里", "手上", "拿着",
    "拿到", "看过", "写出", "写明", "公开了", "公布了", "曝光了", "暴露", "告诉", "流出", "流到", "写上",
    "写入", "印上", "出现在", "给了",
    # harm in the commission's own handling of a case
    "死亡", "身亡", "坠楼", "自杀", "受伤", "逼供", "刑讯", "诱供",
)
_TRIGGER = re.compile("|".join(map(re.escape, sorted(set(TRIGGERS), key=len, reverse=True))))


def might_accuse(text: str) -> bool:
    """Quick test: could :func:`commission_accused` find anything here at all?"""
    return ((_BODY_RE.search(text) is not None or "留置" in text)
            and _TRIGGER.search(text) is not None)


def commission_acts(sentence: str, accusation: re.Pattern, reach: int = 40) -> bool:
    """The sentence names the commission as an actor (not as the addressee of a report), and
    ``accusation`` follows within ``reach`` characters with no report on someone else between."""
    for m in _BODY_RE.finditer(sentence):
        before = sentence[max(0, m.start() - 14):m.start()]
        if _ADDRESSEE.search(before) or _GENERIC.search(before):
            continue
        hit = accusation.search(sentence, m.end(), m.end() + reach)
        if hit and not _REPORTING.search(sentence, m.end(), hit.start()):
            return True
    return False


def staff_misconduct(sentence: str, names: set[str]) -> bool:
    """Whether the sentence names a commission official and then misconduct within a few
    characters (no speech or enforcement between); the names after such titles go into
    ``names``."""
    found = False
    for m in _STAFF.finditer(sentence):
        if (_NOT_OFFICE.search(m.group("office")) or _GENERIC.search(sentence, 0, m.start())
                or _OTHER_BODY.search(sentence, 0, m.start())
                or _POSING.search(sentence, 0, m.start())):
            continue
        name = m.group("name")
        if name and name[0] in _SURNAMES:
            names.add(name)
        title_end = m.start("name") if name else m.end()
        if _FAMILY.match(sentence, title_end):
            found = True
        hit = _OWN.search(sentence, title_end, title_end + 24)
        if hit and not (_SPEECH.search(sentence, title_end, hit.start())
                        or _ENFORCING.search(sentence, title_end, hit.start())):
            found = True
    return found


def _literals(source: str) -> tuple[str, ...]:
    """The literal start of each alternative of a pattern (``不归[^，。]{0,4}管`` gives 不归): a
    word that any match of the alternative contains. An alternative that starts with anything
    but a literal (a group, a class) is refused: its words have to be listed by hand."""
    out = []
    for part in source.split("|"):
        literal = re.match(r"[^\[\]()\\.*+?{}^$]*", part).group(0)
        if part[len(literal):len(literal) + 1] in ("?", "*", "{"):
            literal = literal[:-1]  # the quantifier makes its character optional
        if not literal:
            raise ValueError(f"{part!r} in {source[:40]!r}...: no literal start to look for")
        out.append(literal)
    return tuple(out)


# Words that each reading needs in its sentence (or, for a leak, in the one before): where none
# is there, the reading's patterns cannot match and are not tried. All of them are found for a
# whole batch of sentences in one WordFinder pass, together with the triggers, the commission's
# names and the words of a report, instead of a pattern search per sentence and per reading.
_NEEDS = {
    "trigger": TRIGGERS,
    "named": _literals(_BODY.removeprefix("(?:")[:-1]),
    "report": _literals(_REPORTED.pattern),
    "held": ("留置",),
    "own": _literals(_OWN.pattern) + _literals(_FAMILY.pattern.removeprefix("(?:的)?(?:")[:-1]),
    "custody": ("留置", "逼供", "刑讯", "诱供", "谈话"),
    "exposure": _literals(_EXPOSED.removeprefix("(?:")[:-1]) + _literals(_EXPOSING.pattern),
    "retaliation": _literals(_RETALIATION.pattern),
    "shield": _literals(_SHIELD.pattern),
    "fate": _literals(_FATE.pattern),
}
_FINDER = WordFinder({w for words in _NEEDS.values() for w in words})
# For each need, which of the finder's columns are its words.
_COLUMNS = {need: np.isin(np.arange(len(_FINDER.words)), [_FINDER.column[w] for w in words])
            for need, words in _NEEDS.items()}

#: The patterns of the readings by name, for a test or a tool that reads a sentence the plain
#: way (a pattern search per sentence) to compare with :func:`accusations`.
PATTERNS = MappingProxyType({
    "sentences": _SENTENCES, "body": _BODY_RE, "trigger": _TRIGGER, "reported": _REPORTED,
    "addressee": _ADDRESSEE, "rules": _RULES, "custody": _CUSTODY, "enforcing": _ENFORCING,
    "asking": _ASKING, "leak": _LEAK, "exposing": _EXPOSING, "identity": _IDENTITY,
    "retaliation": _RETALIATION, "shield": _SHIELD, "fate": _FATE, "feared": _FEARED})


def commission_accused(text: str, window: int = 3) -> str:
    """The kind of allegation against the commission the text makes (one of
    :data:`ACCUSATIONS`), or "" when it makes none (see the module docstring)."""
    return accusations([text], window)[0]


def accusations(texts: list[str], window: int = 3) -> list[str]:
    """:func:`commission_accused` of each text of a batch.

    Only sentences holding one of :data:`TRIGGERS` (or whose previous sentence holds one) are
    read closely, and only those near a mention of the commission (or of 留置, or of a name a
    commission title introduced); the others count only as context (whether they name the
    commission or a report). Which words each sentence holds is found for the whole batch at
    once.
    """
    out = [""] * len(texts)
    todo = [k for k, t in enumerate(texts) if _BODY_RE.search(t) is not None or "留置" in t]
    split = [_SENTENCES.findall(texts[k]) for k in todo]
    flat = [s for sentences in split for s in sentences]
    sentence, word = _FINDER.occurrences(flat)
    has = {}
    for need, columns in _COLUMNS.items():
        flags = np.zeros(len(flat), dtype=bool)
        flags[sentence[columns[word]]] = True
        has[need] = flags.tolist()
    at = 0
    for k, sentences in zip(todo, split):
        end = at + len(sentences)
        out[k] = _read(sentences, {need: flags[at:end] for need, flags in has.items()}, window)
        at = end
    return out


def _read(sentences: list[str], has: dict[str, list[bool]], window: int) -> str:
    """The allegation the sentences of one text make; ``has[need][i]``: whether sentence i holds
    a word of ``_NEEDS[need]``."""
    count = len(sentences)
    named, trigger, report = has["named"], has["trigger"], has["report"]
    near = set()
    for i in (i for i in range(count) if named[i]):
        near.update(range(max(0, i - 1), min(i + window, count)))
    # A report handed to the commission (向县纪委举报, 交到了乡纪委): what befalls that report
    # later in the text, however far on, is the commission's doing.
    sent_at = next((i for i in range(count) if named[i] and report[i] and any(
        _ADDRESSEE.search(sentences[i][max(0, m.start() - 14):m.start()])
        for m in _BODY_RE.finditer(sentences[i]))), None)
    if sent_at is not None:
        near.update(range(sent_at, count))
    held, own, custody = has["held"], has["own"], has["custody"]
    exposure, retaliation, shield, fate_words = (
        has["exposure"], has["retaliation"], has["shield"], has["fate"])
    found = set()
    for i in sorted(near | {i for i in range(count) if held[i]}):
        # A trigger here, or in the sentence before for what is told in two.
        if not (trigger[i] or (i and trigger[i - 1])):
            continue
        s = sentences[i]
        if named[i] and own[i] and staff_misconduct(s, set()) and not _RULES.search(s):
            found.add("自身")
        custody_hit = custody[i] and _CUSTODY.search(s)
        # 留置 is the commission's own measure: it names the commission by itself.
        if custody_hit and ("留置" in custody_hit.group(0) or any(named[max(0, i - 2):i + 2])):
            found.add("办案")
        window_start = max(0, i - window + 1)
        sent = sent_at is not None and sent_at <= i
        # What each reading below needs besides its pattern; all of them yield to enforcement.
        may_leak = (any(named[window_start:i + 1]) or sent) and (
            exposure[i] or (i and exposure[i - 1]))
        may_retaliate = named[i] and retaliation[i]
        may_shield = named[i] and shield[i]
        may_sit = fate_words[i] and (named[i] or (i and named[i - 1]) or sent) and (
            report[i] or (i and report[i - 1]))
        if not (may_leak or may_retaliate or may_shield or may_sit) or _ENFORCING.search(s):
            continue
        # The letter and what happened to it may be told in two sentences (站长拿着复印件来了。
        # 那就是我的举报信。).
        told = s if i == 0 else sentences[i - 1] + "，" + s
        if may_leak and not (_ASKING.search(told) or _ENFORCING.search(told)) and (
                _LEAK.search(told) or (any(report[window_start:i + 1])
                                       and _EXPOSING.search(s) and _IDENTITY.search(told))):
            found.add("泄露")
        if may_retaliate and commission_acts(s, _RETALIATION):
            found.add("报复")
        if may_shield and commission_acts(s, _SHIELD):
            found.add("包庇")
        fate = may_sit and _FATE.search(s)
        if fate and not _FEARED.search(s, 0, fate.start()):
            found.add("压案")
    if not found:
        found.update(_named_and_accused(sentences, has))
    return next((kind for kind in ACCUSATIONS if kind in found), "")


def _named_and_accused(sentences: list[str], has: dict[str, list[bool]]) -> set[str]:
    """{"点名"} when an official a commission title introduced is accused by name anywhere in
    the text, else an empty set."""
    # The accusing sentences first: they are few, and the names are read only if there are any.
    accusing = [s for s, trigger, shield, retaliation in zip(
                    sentences, has["trigger"], has["shield"], has["retaliation"])
                if trigger and (shield or retaliation) and not _ENFORCING.search(s)
                and (_SHIELD.search(s) or _RETALIATION.search(s))]
    if not accusing:
        return set()
    names: set[str] = set()
    for s, named in zip(sentences, has["named"]):
        if named:
            staff_misconduct(s, names)
    return {"点名"} if any(n in s for s in accusing for n in names) else set()
