"""Resident-facing texts of the WeChat channel (Simplified Chinese)."""
from __future__ import annotations

WELCOME = (
    "您好，欢迎关注公共法律服务智能助手！\n"
    "【能做什么】解答常见法律问题：劳动争议、工伤、婚姻家庭、继承、借贷、租房、物业、交通事故、"
    "消费维权、法律援助和诉讼程序等，并给出法律依据。\n"
    "【怎么问】直接用文字描述您的问题，例如“公司拖欠工资怎么办？”；可以接着追问，"
    "例如“那赔偿怎么算？”。我给出几个选项时，回复序号 1/2/3 即可。\n"
    "【找律师】随时回复“转人工”，值班律师会通过本公众号回复您；也可拨打12348公共法律服务热线。"
    "人身安全受到威胁请立即拨打110。\n"
    "【隐私说明】我们只保存解答所需的咨询记录，不收集您的姓名；请不要发送身份证号、银行卡号等敏感信息。"
)

RATING_PROMPT = "这个回答对您有帮助吗？回复 5 满意 / 1 不满意。"
RATING_THANKS_GOOD = "感谢您的评价！如有其他法律问题，欢迎继续提问。"
# After a dislike: the one-tap reasons (assistant.learning.models.REASON_CHOICES, in order).
RATING_THANKS_BAD = ("感谢反馈，我们会改进这条解答。能告诉我们哪里不满意吗？回复数字：\n"
                     "1 没回答我的问题\n2 看不懂\n3 我觉得不对\n4 其他\n"
                     "也可以直接换个说法再问，或回复“转人工”由值班律师为您解答。")
FEEDBACK_REASON_THANKS = ("已记录您的意见（{reason}），我们会据此改进这条解答。您可以换个说法再问一次，"
                          "或回复“转人工”由值班律师为您解答。")
CHOICE_OUT_OF_RANGE = "请回复 1 到 {n} 之间的序号；都不是的话，请换个说法描述您的问题，或回复“转人工”。"
CHOICE_EXPIRED = "这个选项已失效，请重新描述您的问题。"

TICKET_CREATED = "您的咨询单号：{no}（请保留，联系律师时可提供此单号）。"
TICKET_ALREADY_OPEN = ("您已有一张处理中的咨询单：{no}，值班律师会尽快通过本公众号回复您。"
                       "您补充的信息已一并记录到该咨询单。")
TICKET_ATTACHED = "您补充的信息已记录到咨询单 {no}，值班律师会一并看到。"
TICKET_REOPENED = ("您的补充问题已转给为您解答的律师（咨询单 {no}），"
                   "律师会通过本公众号继续回复您。")
# The expected wait: measured from recent first responses, or the service's commitment.
WAIT_MEASURED = "预计约{wait}内有律师回复（前面还有 {ahead} 位居民在等待）。"
WAIT_COMMITMENT = "值班律师将在{wait}内回复您。"
WAIT_NEXT = "您是下一位，值班律师将在{wait}内回复您。"
NO_TICKETS = "您目前没有咨询单。直接描述问题即可获得解答；需要律师帮助请回复“转人工”。"
MY_TICKETS_HEAD = "您最近的咨询单："
MY_TICKETS_WORDS = frozenset({"我的咨询", "我的咨询单", "咨询单", "查询咨询", "咨询进度",
                              "查询进度", "查进度", "我的工单"})
TICKET_STATUS = {
    "waiting": "排队中，等待律师接单", "claimed": "律师正在处理", "answered": "律师已回复",
    "transferred": "已转交其他律师", "reopened": "补充问题处理中", "closed": "已办结",
    "expired": "已结束",
}
TICKET_DUE = "（预计{due}前回复）"
TICKET_RATED = "（您的评价：{score} 分）"
# Appended to every lawyer reply: the resident's next "5"/"1" rates it.
LAWYER_REPLY_HEAD = "【律师回复 · 咨询单 {no}】"
TICKET_RATING_PROMPT = "对律师的回复满意吗？回复 5 满意 / 1 不满意。"
TICKET_RATING_THANKS_GOOD = "感谢您的评价！如还有疑问，直接回复补充即可。"
TICKET_RATING_THANKS_BAD = ("感谢您的反馈，我们会转告律师并改进。如问题仍未解决，请直接回复补充说明，"
                            "或回复“转人工”，律师会继续跟进。")


VOICE_UNRECOGNISED = "抱歉，暂时无法识别这条语音。请用文字输入您的问题，我们会尽快解答。"
UNSUPPORTED = ("收到！目前我们只能处理文字消息（以及能识别成文字的语音）。"
               "请用文字描述您遇到的法律问题；需要律师帮助请回复“转人工”，或拨打12348。")
EMPTY_TEXT = "您好，请用文字描述您遇到的法律问题，例如“房东不退押金怎么办？”。"
RATE_LIMITED = "您发送消息的速度有点快，请稍等片刻再发送，我们会逐条为您解答。"
BUSY = "系统繁忙，请稍后再试；紧急情况请拨打12348公共法律服务热线，人身安全受到威胁请拨打110。"

FAQ_MENU = (
    "常见问题（直接发送问题即可）：\n"
    "1. 公司拖欠工资怎么办？\n"
    "2. 上班途中受伤算工伤吗？\n"
    "3. 离婚时孩子抚养权怎么确定？\n"
    "4. 房东不退押金怎么办？\n"
    "5. 借钱不还怎么起诉？\n"
    "6. 交通事故赔偿包括哪些项目？\n"
    "7. 怎样申请法律援助？"
)
