"""The sentences a seller reads for each decision, in English and Vietnamese.

Numbers, tags and dates come from the pack data, so a rule change changes the sentence too.
"""

from __future__ import annotations

from datetime import date

from chatcart.policy.schemas import Frequency, Purpose

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def en_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def vi_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


# purpose -> (noun, plural, Vietnamese noun)
PURPOSE_NOUNS: dict[Purpose, tuple[str, str, str]] = {
    Purpose.REPLY: ("a reply", "replies", "câu trả lời"),
    Purpose.HUMAN_REPLY: ("an agent's reply", "agent replies", "câu trả lời của nhân viên"),
    Purpose.PROMOTION: ("a promotion", "promotions", "tin khuyến mãi"),
    Purpose.ORDER_UPDATE: ("an order update", "order updates", "tin cập nhật đơn hàng"),
    Purpose.EVENT_REMINDER: ("an event reminder", "event reminders", "tin nhắc sự kiện"),
    Purpose.ACCOUNT_UPDATE: ("an account update", "account updates", "tin cập nhật tài khoản"),
    Purpose.PRIVATE_REPLY: ("a private reply", "private replies", "tin trả lời riêng"),
    Purpose.OPTIN_REQUEST: ("an opt-in request", "opt-in requests", "lời mời đăng ký nhận tin"),
}

# frequency -> (adjective, adjective vi, period, period vi)
FREQUENCY_WORDS: dict[Frequency, tuple[str, str, str, str]] = {
    Frequency.DAILY: ("daily", "mỗi ngày một tin", "today", "hôm nay"),
    Frequency.WEEKLY: ("weekly", "mỗi tuần một tin", "this week", "trong tuần này"),
    Frequency.MONTHLY: ("monthly", "mỗi tháng một tin", "this month", "trong tháng này"),
}

# key -> (English, Vietnamese). Placeholders: see service._facts and the callers.
TEXTS: dict[str, tuple[str, str]] = {
    "unknown_channel": (
        "chatcart has no rules for the {channel} channel, so it sends nothing there.",
        "chatcart chưa có quy tắc cho kênh {channel_vi} nên không gửi gì qua kênh này.",
    ),
    "before_pack": (
        "chatcart's {channel} rules start on {date}; it cannot judge a message dated {day}.",
        "Quy tắc {channel_vi} của chatcart bắt đầu từ ngày {date_vi}; chatcart không xét được tin "
        "nhắn đề ngày {day_vi}.",
    ),
    "open": (
        "This is chatcart's own {channel}: no platform window applies (chatcart rule since "
        "{date}).",
        "Đây là {channel_vi} của chính chatcart: không có giới hạn thời gian của nền tảng nào "
        "(quy tắc của chatcart từ ngày {date_vi}).",
    ),
    "unsubscribed": (
        "The person asked to stop messages (STOP/HỦY); chatcart still answers their own new "
        "messages but sends them no {whats} (chatcart rule since {date}).",
        "Khách đã yêu cầu ngừng nhận tin (STOP/HỦY); chatcart vẫn trả lời tin nhắn mới của "
        "chính khách nhưng không gửi {what_vi} (quy tắc của chatcart từ ngày {date_vi}).",
    ),
    "window": (
        "The person wrote to you within the last {hours} hours, so {channel} accepts a standard "
        "message (rule in force since {date}).",
        "Khách đã nhắn cho bạn trong vòng {hours} giờ qua nên {channel_vi} cho phép gửi tin nhắn "
        "thông thường (quy tắc áp dụng từ ngày {date_vi}).",
    ),
    "window_closed": (
        "The person last wrote more than {hours} hours ago; since {date}, {channel} allows no "
        "standard message after {hours} hours, so {what} cannot be sent now.",
        "Khách nhắn lần cuối đã hơn {hours} giờ trước; từ ngày {date_vi}, {channel_vi} không cho "
        "gửi tin nhắn thông thường sau {hours} giờ nên không gửi được {what_vi} lúc này.",
    ),
    "never_wrote": (
        "The person has never written to you on {channel}; since {date}, {channel} lets a "
        "business message a person only within {hours} hours of the person's last message.",
        "Khách chưa từng nhắn cho bạn trên {channel_vi}; từ ngày {date_vi}, {channel_vi} chỉ cho "
        "doanh nghiệp nhắn trong vòng {hours} giờ sau tin nhắn gần nhất của khách.",
    ),
    "human_agent": (
        "Sent with the HUMAN_AGENT tag: a person on your team is answering within {days} days "
        "of the customer's last message, which {channel} allows (rule in force since {date}).",
        "Gửi kèm thẻ HUMAN_AGENT: nhân viên của bạn trả lời trong vòng {days} ngày kể từ tin "
        "nhắn gần nhất của khách, {channel_vi} cho phép (quy tắc áp dụng từ ngày {date_vi}).",
    ),
    "human_agent_human_only": (
        "The person last wrote more than {hours} hours ago. Since {date}, after that {channel} "
        "lets only a person on your team answer (HUMAN_AGENT tag, up to {days} days); an "
        "automated reply cannot be sent.",
        "Khách nhắn lần cuối đã hơn {hours} giờ trước. Từ ngày {date_vi}, sau thời gian đó "
        "{channel_vi} chỉ cho nhân viên của bạn trả lời (thẻ HUMAN_AGENT, tối đa {days} ngày); "
        "không gửi được tin trả lời tự động.",
    ),
    "human_agent_not_enabled": (
        "Outside the {hours}-hour window {channel} takes an answer from your team only with the "
        "HUMAN_AGENT tag (up to {days} days, since {date}), and this app has not been granted "
        "Meta's Human Agent feature.",
        "Ngoài khung {hours} giờ, {channel_vi} chỉ nhận câu trả lời của nhân viên kèm thẻ "
        "HUMAN_AGENT (tối đa {days} ngày, từ ngày {date_vi}), mà ứng dụng này chưa được Meta "
        "cấp tính năng Human Agent.",
    ),
    "human_agent_expired": (
        "The person last wrote more than {days} days ago; since {date}, {channel} lets a person "
        "on your team answer with the HUMAN_AGENT tag only up to {days} days after the "
        "customer's last message.",
        "Khách nhắn lần cuối đã hơn {days} ngày trước; từ ngày {date_vi}, {channel_vi} chỉ cho "
        "nhân viên trả lời bằng thẻ HUMAN_AGENT trong vòng {days} ngày kể từ tin nhắn gần nhất "
        "của khách.",
    ),
    "tag": (
        "Sent outside the {hours}-hour window with the {tag} tag, which {channel} accepts for "
        "{what} until {until}.",
        "Gửi ngoài khung {hours} giờ kèm thẻ {tag}; {channel_vi} chấp nhận thẻ này cho "
        "{what_vi} đến hết ngày {until_vi}.",
    ),
    "tag_retired": (
        "Meta retired the {tag} tag on {date}; {what} outside the {hours}-hour window can no "
        "longer be sent on {channel}. It can go out within {hours} hours of the person's next "
        "message.",
        "Meta đã ngừng thẻ {tag} từ ngày {date_vi}; {what_vi} ngoài khung {hours} giờ không "
        "còn gửi được trên {channel_vi}. Tin này có thể gửi trong vòng {hours} giờ sau khi khách "
        "nhắn lại.",
    ),
    "tags_never": (
        "Instagram has never offered Messenger's update tags (POST_PURCHASE_UPDATE, "
        "CONFIRMED_EVENT_UPDATE, ACCOUNT_UPDATE); outside the {hours}-hour window it accepts "
        "only a human agent's answer, so {what} cannot be sent now (rule in force since {date}).",
        "Instagram chưa bao giờ có các thẻ cập nhật của Messenger (POST_PURCHASE_UPDATE, "
        "CONFIRMED_EVENT_UPDATE, ACCOUNT_UPDATE); ngoài khung {hours} giờ chỉ nhận câu trả lời "
        "của nhân viên, nên không gửi được {what_vi} lúc này (quy tắc áp dụng từ ngày {date_vi}).",
    ),
    "private_reply": (
        "A private reply to the person's comment: {channel} allows one per comment within "
        "{days} days of the comment (rule in force since {date}).",
        "Tin trả lời riêng cho bình luận của khách: {channel_vi} cho phép một tin cho mỗi bình "
        "luận trong vòng {days} ngày kể từ khi bình luận (quy tắc áp dụng từ ngày {date_vi}).",
    ),
    "private_reply_already_sent": (
        "This comment already got its private reply; since {date}, {channel} allows only one "
        "private reply per comment.",
        "Bình luận này đã được trả lời riêng; từ ngày {date_vi}, {channel_vi} chỉ cho một tin trả "
        "lời riêng cho mỗi bình luận.",
    ),
    "private_reply_expired": (
        "The comment is more than {days} days old; since {date}, {channel} allows a private "
        "reply only within {days} days of the comment.",
        "Bình luận đã quá {days} ngày; từ ngày {date_vi}, {channel_vi} chỉ cho trả lời riêng trong "
        "vòng {days} ngày kể từ khi bình luận.",
    ),
    "private_reply_no_comment": (
        "chatcart does not know when this comment was written, so it cannot check the {days}-day "
        "limit {channel} has set for private replies since {date}.",
        "chatcart không biết bình luận này được viết lúc nào nên không kiểm tra được giới hạn "
        "{days} ngày mà {channel_vi} áp dụng cho tin trả lời riêng từ ngày {date_vi}.",
    ),
    "private_reply_none": (
        "The {channel} channel has no private replies to comments (rule since {date}).",
        "Kênh {channel_vi} không có tin trả lời riêng cho bình luận (quy tắc từ ngày {date_vi}).",
    ),
    "marketing_paid": (
        "Sent to the person's opt-in for {freq} marketing messages through Meta's paid Marketing "
        "Message API (the only route since {date}); Meta charges it to your ad account.",
        "Gửi theo đăng ký nhận tin tiếp thị của khách ({freq_vi}) qua Marketing Message API trả "
        "phí của Meta (cách duy nhất từ ngày {date_vi}); Meta tính phí vào tài khoản quảng cáo "
        "của bạn.",
    ),
    "marketing_free": (
        "Sent as a recurring notification to the person's opt-in for {freq} messages (rule in "
        "force since {date}).",
        "Gửi dạng thông báo định kỳ theo đăng ký của khách ({freq_vi}) (quy tắc áp dụng từ ngày "
        "{date_vi}).",
    ),
    "marketing_not_connected": (
        "Since {date}, {channel} delivers a promotion outside the {hours}-hour window only "
        "through Meta's paid Marketing Message API, and this account is not connected to it; "
        "tags may never carry promotions.",
        "Từ ngày {date_vi}, {channel_vi} chỉ gửi khuyến mãi ngoài khung {hours} giờ qua "
        "Marketing Message API trả phí của Meta, mà tài khoản này chưa kết nối; thẻ không bao "
        "giờ được dùng cho khuyến mãi.",
    ),
    "marketing_no_token": (
        "A promotion outside the {hours}-hour window needs the person's opt-in to marketing "
        "messages, and this person has none; {channel} tags may never carry promotions (rule "
        "in force since {date}).",
        "Tin khuyến mãi ngoài khung {hours} giờ cần khách đã đăng ký nhận tin tiếp thị, mà "
        "khách này chưa đăng ký; thẻ của {channel_vi} không bao giờ được dùng cho khuyến mãi (quy "
        "tắc áp dụng từ ngày {date_vi}).",
    ),
    "marketing_stopped": (
        "The person turned off your marketing messages; since {date}, {channel} sends a "
        "promotion outside the {hours}-hour window only to people whose opt-in is active.",
        "Khách đã tắt nhận tin tiếp thị của bạn; từ ngày {date_vi}, {channel_vi} chỉ gửi khuyến "
        "mãi ngoài khung {hours} giờ cho khách còn bật nhận tin.",
    ),
    "marketing_expired": (
        "The person's opt-in to marketing messages expired on {expired}; since {date}, "
        "{channel} needs a valid opt-in to send a promotion outside the {hours}-hour window. "
        "Ask them to opt in again the next time they write.",
        "Đăng ký nhận tin tiếp thị của khách đã hết hạn ngày {expired_vi}; từ ngày {date_vi}, "
        "{channel_vi} cần đăng ký còn hiệu lực để gửi khuyến mãi ngoài khung {hours} giờ. Hãy mời "
        "khách đăng ký lại khi họ nhắn tới.",
    ),
    "marketing_frequency": (
        "The person opted in to {freq} marketing messages and already got one {period} "
        "({zone} time); the next can go on {next} (rule in force since {date}).",
        "Khách đăng ký nhận tin tiếp thị {freq_vi} và đã nhận một tin {period_vi} (giờ "
        "{zone}); tin tiếp theo có thể gửi từ ngày {next_vi} (quy tắc áp dụng từ ngày "
        "{date_vi}).",
    ),
    "marketing_cooldown": (
        "Since {date}, {channel} requires {gap} hours between two recurring notifications to "
        "the same person; the last one went out less than {gap} hours ago.",
        "Từ ngày {date_vi}, {channel_vi} yêu cầu cách nhau {gap} giờ giữa hai thông báo định kỳ "
        "gửi cho cùng một khách; tin trước mới gửi chưa đầy {gap} giờ.",
    ),
    "marketing_none": (
        "Since {date}, Instagram has no marketing opt-in: recurring notifications ended that "
        "day and Meta's Marketing Message API covers Messenger only. So chatcart sends "
        "Instagram promotions only within {hours} hours of the person's last message and asks "
        "for no opt-in there.",
        "Từ ngày {date_vi}, Instagram không còn đăng ký nhận tin tiếp thị: thông báo định kỳ "
        "đã ngừng từ ngày đó và Marketing Message API của Meta chỉ dành cho Messenger. Vì vậy "
        "chatcart chỉ gửi khuyến mãi trên Instagram trong vòng {hours} giờ sau tin nhắn gần "
        "nhất của khách và không mời đăng ký ở đó.",
    ),
    "optin_request": (
        "Opt-in request sent within {hours} hours of the person's last message, as {channel} "
        "requires (rule in force since {date}).",
        "Lời mời đăng ký nhận tin được gửi trong vòng {hours} giờ sau tin nhắn gần nhất của "
        "khách, đúng yêu cầu của {channel_vi} (quy tắc áp dụng từ ngày {date_vi}).",
    ),
    "optin_request_window_closed": (
        "An opt-in request may only be sent within {hours} hours of the person's last message "
        "(asking does not reopen the conversation); since {date}, {channel} refuses it later.",
        "Lời mời đăng ký nhận tin chỉ được gửi trong vòng {hours} giờ sau tin nhắn gần nhất của "
        "khách (lời mời không mở lại cuộc trò chuyện); từ ngày {date_vi}, {channel_vi} từ chối nếu "
        "gửi muộn hơn.",
    ),
    "optin_request_too_soon": (
        "{channel} allows one opt-in request per person every {gap} days, and the last one went "
        "out less than {gap} days ago (rule in force since {date}).",
        "{channel_vi} chỉ cho gửi một lời mời đăng ký nhận tin cho mỗi khách trong {gap} ngày, và "
        "lời mời trước mới gửi chưa đầy {gap} ngày (quy tắc áp dụng từ ngày {date_vi}).",
    ),
}


def render(key: str, **facts: object) -> tuple[str, str]:
    """The English and Vietnamese sentence for `key`, filled with `facts`."""
    english, vietnamese = TEXTS[key]
    return english.format(**facts), vietnamese.format(**facts)
