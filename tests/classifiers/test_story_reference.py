"""The fast story functions against plain definitions of what they compute, kept here.

Stored fingerprints must stay comparable with new ones and names must read the same, so the
faster code (byte-lane votes, patterns written out by first character, comparisons instead of a
regex) has to give identical values: over every text of the training corpus and over hard cases.
The definitions below are written for reading, not speed.
"""

from __future__ import annotations

import re

import pytest

from classifiers.corpus import load_corpus
from classifiers.identity import names, template_free
from classifiers.stories import fingerprint, simhash
from classifiers.testing import COMPLAINTS, plea_post, weibo_post
from pipeline.text import normalize

MASK = (1 << 64) - 1


def plain_simhash(text: str) -> int:
    """Scheme 2: 3-grams of the letters and digits (code point + 1, a short text padded with 0),
    each packed base 0x110001, mixed by SplitMix64's finaliser, voting on each of the 64 bits."""
    chars = [ord(c) + 1 for c in text if c.isalnum()]
    if not chars:
        return 0
    chars += [0] * (3 - len(chars))
    votes = [0] * 64
    for i in range(len(chars) - 2):
        z = ((chars[i] * 0x110001 + chars[i + 1]) * 0x110001 + chars[i + 2] + 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        for bit in range(64):
            votes[bit] += 1 if z >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if votes[bit] > 0)


# The template's patterns as first written: the openings grouped.
PLEA = re.compile(
    r"(?:(?:跪求|恳求|恳请|拜托|麻烦|希望|请|求)(?:各位|大家|网友|好心人)?(?:帮忙|帮我|帮帮忙|帮)?"
    r"(?:扩散|转发|转|顶|关注|曝光|支持|评论|点赞|上热搜|热搜)+|扩散周知|转发扩散|帮忙转发|大家帮帮忙)"
    r"[，,、！!。~～\s]*")
BOILERPLATE = re.compile(
    r"以真实姓名|愿(?:意)?承担(?:一切|相应|全部)?(?:的)?法律责任|(?:所)?反映(?:的)?(?:问题|情况|内容)(?:均|全部)?属实|"
    r"还(?:老百姓|群众|我们|我|百姓|人民)(?:一个)?(?:公道|清白|说法)|(?:恳请|请求|希望|强烈要求)(?:上级|有关|相关|各级)?"
    r"(?:部门|领导|纪委|纪检|监委|政府)[^。！？!?\n]{0,12}(?:彻查|严查|查处|核查|调查|重视|处理|关注)")
HASHTAG = re.compile(r"#[^#\n]{1,40}#")
MENTION = re.compile(r"[@＠][\w\-·]{1,30}")
SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
EDGES = " \t\u3000\n。！？!?；;，,、：:"


def plain_template_free(text: str) -> str:
    """Hashtags, mentions and pleas replaced by a space; then every sentence kept unless it is
    empty, repeats an earlier one, or holds the start of a template phrase."""
    text = PLEA.sub(" ", MENTION.sub(" ", HASHTAG.sub(" ", text)))
    template = [m.start() for m in BOILERPLATE.finditer(text)]
    kept, seen = [], set()
    for m in SENTENCE.finditer(text):
        core = m.group(0).strip(EDGES)
        if core and core not in seen and not any(m.start() <= at < m.end() for at in template):
            seen.add(core)
            kept.append(m.group(0))
    return "".join(kept)


# identity's word lists as they were when this test was written: names() must read with these
# exactly as this definition does (a list changed there is a change to review here too).
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
             "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
             "钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝"
             "包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
             "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬"
             "师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚"
             "鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋"
             "相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银"
             "亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "夏侯", "尉迟", "长孙", "宇文",
             "司徒", "公孙", "端木", "独孤", "南宫", "西门", "百里", "呼延", "轩辕", "钟离")
SURNAME = frozenset(SURNAMES)
COMPOUND_SURNAME = frozenset(COMPOUND)
TITLES = frozenset(("书记", "局长", "镇长", "乡长", "县长", "区长", "市长", "主任", "所长", "站长", "院长",
                     "校长", "支书", "队长", "科长", "股长", "经理", "会计", "组长", "主席", "委员", "干部",
                     "民警", "辅警", "医生", "老师", "村民", "党员", "厅长", "处长", "部长", "检察长", "庭长",
                     "审判员"))
# Place and unit words: 周田镇, 羊角村, 财政所, 资源局 (a title such as 局长 is found first).
PLACE_WORDS = ("镇", "乡", "村", "县", "区", "市", "街道", "社区", "局", "所", "院", "站", "厂", "公司", "小学",
                "中学")
# Where names are read: 某 (张某某), a title (副局长朱文斌) or a place word, titles before the
# place words they start with.
ANCHOR = re.compile("某|" + "|".join(sorted(TITLES, key=len, reverse=True)) + "|" + "|".join(PLACE_WORDS))
# Characters that are never part of the two before a place word: function words (我们村, 全县,
# 该镇) and place words themselves (县乡镇).
NOT_IN_NAME = set("我你他她它们这那该本全各每某此其的了在是和与及到从对把被将向给为有个一二两几多镇乡村县区市局所院站")
# Times and motions before a place word: 今天县纪委, 近日镇里, 来到村里.
NOT_A_NAME = {"今天", "当天", "昨天", "明天", "前天", "近日", "日前", "当日", "今日", "昨日", "今年", "去年",
               "明年", "当年", "目前", "如今", "现在", "最近", "已经", "正在", "来到", "前往", "回到", "走进",
               "深入", "返回", "离开", "进入", "赶到", "赶往", "全省", "上级", "下级", "基层", "城乡"}
TWO_HAN = re.compile("[\u4e00-\u9fff]{2}")


def plain_names(text: str) -> frozenset[str]:
    """At each anchor of identity's pattern: the surname before 某, the name after a title, the two
    characters before a place word (each with its conditions, as the module docstring gives them)."""
    found = set()
    for m in ANCHOR.finditer(text):
        start, end, word = m.start(), m.end(), m.group(0)
        if word == "某":
            if text[start - 2:start] in COMPOUND_SURNAME:
                found.add(text[start - 2:end])
            elif start and text[start - 1] in SURNAME:
                found.add(text[start - 1:end])
        elif word in TITLES:
            after = (3 if text[end:end + 2] in COMPOUND_SURNAME
                     else 2 if text[end:end + 1] in SURNAME else 0)
            name = text[end:end + after]
            if after and TWO_HAN.fullmatch(name[-2:]) and not name.endswith("某"):
                found.add(name)
        else:
            prefix = text[start - 2:start] if start >= 2 else ""
            if (TWO_HAN.fullmatch(prefix) and text[end:end + 1] != "长" and prefix not in NOT_A_NAME
                    and not NOT_IN_NAME.intersection(prefix)):
                found.add(prefix + word)
    return frozenset(found)


HARD = ["", "纪", "纪委", "a", "ab", "！！！", "。，、；：？！…—·《》「」", "   \n\t\u3000 ", "_", "#会昌#", "@", "＠纪委",
        "某", "张某", "局长", "副局长朱", "村", "周田镇", "县乡镇村", "我们村里", "今天县纪委", "村长",
        "清河縣紀委監委通報了三起違反中央八項規定精神的典型問題。縣水利局幹部王某某違規接受宴請。",
        "ＡＢＣ１２３ 𠀀𠀁 emoji 🙂 under_score", "求扩散！求转发！", "请大家帮忙转发、扩散周知", "求求求扩散",
        "本人以真实姓名实名举报，愿承担一切法律责任。所反映问题均属实。恳请上级纪委彻查！还老百姓一个公道！",
        "转发：" + weibo_post(*COMPLAINTS[0]), plea_post(*COMPLAINTS[1]),
        "同一句话。同一句话。同一句话！", "。。。\n\n\n",
        ("县纪委监委通报：城关镇党委委员李某某公车私用，受到党内警告处分。" * 400)
        + "恳请有关部门尽快彻查处理此事" * 50]


def texts() -> list[str]:
    return [normalize(t) for t in HARD] + [normalize(e.title + "\n" + e.text) for e in load_corpus()]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return texts()


def test_the_cases_are_hard(corpus):
    assert len(corpus) > 2000
    assert sum(template_free(t) != t for t in corpus) > 100  # the template is there to remove
    assert sum(bool(names(t)) for t in corpus) > 1000


def test_simhash_is_its_plain_definition(corpus):
    assert [simhash(t, normalized=True) for t in corpus] == [plain_simhash(t) for t in corpus]


def test_template_free_is_its_plain_definition(corpus):
    assert [template_free(t) for t in corpus] == [plain_template_free(t) for t in corpus]


def test_names_are_their_plain_definition(corpus):
    assert [names(t) for t in corpus] == [plain_names(t) for t in corpus]


def test_fingerprints_are_the_plain_simhash_of_the_plain_template_free_text(corpus):
    assert [fingerprint(t, normalized=True) for t in corpus[::5]] == [
        plain_simhash(plain_template_free(t)) for t in corpus[::5]]


def test_every_code_point_is_a_letter_or_not_as_isalnum_says():
    from classifiers.stories import shingle_hashes

    # a block's characters give one shingle per letter or digit less two (one for one or two)
    for start in range(0, 0x110000, 2048):
        block = "".join(chr(c) for c in range(start, start + 2048) if not 0xD800 <= c < 0xE000)
        letters = sum(c.isalnum() for c in block)
        assert len(shingle_hashes(block, normalized=True)) == (max(letters - 2, 1) if letters else 0), hex(start)
