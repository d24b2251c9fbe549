"""Reading an open accusation against an office holder (点名指控), on texts written here in the
registers real complaints use: with feeling, in an analyst's words, relayed by a paper, in
traditional script; and the texts that use the same words without accusing anyone."""

from __future__ import annotations

import pytest

from classifiers.allegation import accused_openly
from classifiers.clean import prepare
from classifiers.signals import read_cues

ACCUSING = {
    "told with feeling": (
        "我在这个村里活了六十多年，从没受过这样的气！老伴走后家里只剩我一个人，"
        "可村主任硬说我家的低保要“调整”，转头就给了他小舅子，这不是优亲厚友是什么？我去村部问，他拍着桌子骂我老糊涂。"
        "求求各位好心人帮我转一转，让上面的领导看看我们这里的事。"),
    "an analyst's register": (
        "一场关于灌溉渠修缮款的争议，在短视频平台持续发酵。多名网友接连发帖，称该镇水利站站长"
        "虚报工程量、套取专项资金。这不仅是一个村庄的账目之争，更映照出基层小微权力运行的隐忧。"),
    "relayed by a paper": (
        "近日，多名家长致电本报反映，某小学校长以“校服升级”为名，向每名学生多收两百元，"
        "家长们认为其中有回扣。记者多次拨打该校电话，均无人接听。"),
    "traditional script": (
        "各位鄉親請幫忙擴散！我們組的征地補償款到現在還沒發下來，"
        "村支書把錢截留了整整兩年，誰去問就威脅誰。"),
    "on a message board, not yet answered": (
        "领导留言板 类型：投诉 状态：未回复 留言内容：镇里的城管队长带人向摊贩乱收“管理费”，"
        "不交就砸秤没收三轮车，已经好几个月了，请上级管一管。"),
}

NOT_ACCUSING = {
    "a rule": (
        "县纪委监委印发通知，严禁党员干部借婚丧喜庆事宜大操大办、收受管理服务对象礼金，"
        "一经查实严肃处理。"),
    "enforcement told in general": (
        "今年以来，全县坚决整治群众身边的吃拿卡要问题，持续推进作风建设。"),
    "some officials in general": (
        "文章认为，部分村干部和会计长期默许甚至参与截留补贴，根源在于村务监督流于形式。"),
    "a consultation": (
        "网友提问：村干部能否在村办合作社兼职领取报酬？这种情况算不算以权谋私？应该向哪个部门反映？"),
    "a reply that found it": (
        "网友您好！您反映的问题已收悉。经核查，该村会计确有冒领农机补贴行为，镇纪委已给予其党内警告处分，"
        "违规资金已全部追回。感谢您对我们工作的监督。"),
    "a sentence given": (
        "法院一审判处原村支书有期徒刑三年，认定其在征地拆迁中侵吞补偿款四十余万元。"),
    "nobody in office": (
        "小区一名保安与外卖员发生口角后动手打人，视频在网上流传，物业公司已向当事人道歉。"),
}


@pytest.mark.parametrize("shape", ACCUSING)
def test_an_accusation_against_an_office_holder_is_read_in_any_register(shape):
    assert accused_openly(prepare(ACCUSING[shape]))


@pytest.mark.parametrize("shape", NOT_ACCUSING)
def test_the_same_words_without_an_open_accusation_are_not(shape):
    assert not accused_openly(prepare(NOT_ACCUSING[shape]))


def test_the_cue_is_read_with_the_others():
    accusing, rule = read_cues([prepare(ACCUSING["told with feeling"]),
                                prepare(NOT_ACCUSING["a rule"])])
    assert accusing.alleged and "线索:点名指控" in accusing.names()
    assert not rule.alleged and "线索:点名指控" not in rule.names()


def test_a_handled_matter_is_not_open_however_the_accusation_is_told():
    handled = ACCUSING["told with feeling"] + "经调查核实，该村主任已被给予政务处分。"
    assert not accused_openly(prepare(handled))
