// The words of wallboard v2 and the analytics page (issue 17), added to the shared strings.
import { STRINGS } from "/assets/i18n.js";

Object.assign(STRINGS.zh, {
  "wb2.filter": "队列", "wb2.all": "全部", "wb2.waiting_calls": "排队来电", "wb2.waiting_web": "待响应网络诉求",
  "wb2.warnings": "预警", "wb2.analytics": "趋势与预警", "wb2.none": "无",
  "wb2.a.name": "坐席", "wb2.a.state": "状态", "wb2.a.reason": "原因", "wb2.a.time": "时长",
  "wb2.a.queue": "当前来电队列", "wb2.a.call": "通话", "wb2.a.phone": "话机", "wb2.a.action": "改状态",
  "wb2.phone.yes": "已注册", "wb2.phone.no": "未注册",
  "wb2.w.caller": "来电号码", "wb2.w.queue": "队列", "wb2.w.wait": "等待", "wb2.w.path": "按键路径", "wb2.w.ringing": "振铃坐席",
  "wb2.web.ticket": "工单", "wb2.web.queue": "队列", "wb2.web.wait": "等待",
  "wb2.stale": "实时数据中断，自 {since} 起未更新", "wb2.set": "—", "wb2.set_who": "更改 {name} 的状态",
  "wb2.set_done": "{name} 已改为 {state}", "wb2.available": "可接听", "wb2.sub": "未注册就绪 {no_phone} · 通话 {talking} · 示忙 {not_ready}",
  "wb2.legend.offered": "呼入", "wb2.legend.answered": "接听", "wb2.legend.rate": "近24小时接通率", "wb2.legend.target": "95% 目标",
  "wb2.axis.calls": "来电数", "wb2.axis.rate": "接通率",
  "nr.unspecified": "示忙", "nr.break": "小休", "nr.meal": "用餐", "nr.meeting": "会议", "nr.training": "培训", "nr.paperwork": "工单处理",
  "nr.no_answer": "未接", "nr.busy": "话机忙", "nr.declined": "拒接", "nr.unreachable": "无法接通",
  "wb.ready_no_phone": "就绪但话机未注册",
  "warn.hot_spot": "热点：{area}「{category}」今日 {count} 件（常态 {expected}/日）",
  "warn.high_frequency": "高频：{count} 件相似诉求「{sample}」",
  "warn.seasonal_due": "季节性：「{category}」往年第 {week} 周明显增多，请准备预案",
  "warn.risk_words": "风险词：工单 {ticket} 含「{words}」",
});

Object.assign(STRINGS.en, {
  "wb2.filter": "Queue", "wb2.all": "All", "wb2.waiting_calls": "Calls waiting", "wb2.waiting_web": "Web requests waiting",
  "wb2.warnings": "Warnings", "wb2.analytics": "Trends and warnings", "wb2.none": "none",
  "wb2.a.name": "Agent", "wb2.a.state": "State", "wb2.a.reason": "Reason", "wb2.a.time": "In state",
  "wb2.a.queue": "Call's queue", "wb2.a.call": "Call", "wb2.a.phone": "Phone", "wb2.a.action": "Set state",
  "wb2.phone.yes": "registered", "wb2.phone.no": "not registered",
  "wb2.w.caller": "Caller", "wb2.w.queue": "Queue", "wb2.w.wait": "Wait", "wb2.w.path": "IVR path", "wb2.w.ringing": "Ringing",
  "wb2.web.ticket": "Ticket", "wb2.web.queue": "Queue", "wb2.web.wait": "Wait",
  "wb2.stale": "Live feed lost: nothing new since {since}", "wb2.set": "—", "wb2.set_who": "Change the state of {name}",
  "wb2.set_done": "{name} is now {state}", "wb2.available": "available", "wb2.sub": "ready without phone {no_phone} · talking {talking} · not ready {not_ready}",
  "wb2.legend.offered": "Offered", "wb2.legend.answered": "Answered", "wb2.legend.rate": "24 h connection rate", "wb2.legend.target": "95 % target",
  "wb2.axis.calls": "calls", "wb2.axis.rate": "rate",
  "nr.unspecified": "not ready", "nr.break": "break", "nr.meal": "meal", "nr.meeting": "meeting", "nr.training": "training", "nr.paperwork": "paperwork",
  "nr.no_answer": "no answer", "nr.busy": "phone busy", "nr.declined": "declined", "nr.unreachable": "unreachable",
  "warn.hot_spot": "Hot spot: {category} in {area}, {count} today (usually {expected} a day)",
  "warn.high_frequency": "High frequency: {count} similar requests \"{sample}\"",
  "warn.seasonal_due": "Seasonal: {category} rose in week {week} of earlier years; prepare",
  "warn.risk_words": "Risk words: ticket {ticket} mentions \"{words}\"",
});

Object.assign(STRINGS.zh, {
  "an.title": "趋势与预警", "an.wallboard": "监控大屏", "an.reports": "运行报告", "an.by": "维度", "an.bucket": "粒度",
  "an.trend": "诉求趋势", "an.key": "类别", "an.total": "本期", "an.previous": "上期", "an.change": "环比",
  "an.warnings": "预警（近30天）", "an.other": "其他", "an.unknown": "未填", "an.cut": "数据过多，已截断",
  "an.dim.type": "诉求类型", "an.dim.domain": "领域", "an.dim.category": "派单类别", "an.dim.area": "区域", "an.dim.channel": "渠道", "an.dim.unit": "承办单位",
  "an.bucket.hour": "按小时", "an.bucket.day": "按日", "an.bucket.week": "按周",
  "an.w.at": "时间", "an.w.rule": "规则", "an.w.what": "内容", "an.w.threshold": "阈值", "an.w.requests": "相关诉求",
  "an.rule.hot_spot": "热点", "an.rule.high_frequency": "高频", "an.rule.seasonal_due": "季节性", "an.rule.risk_words": "风险词",
  "an.w.hot_spot": "{area}「{category}」{day} 共 {count} 件，常态每日 {expected} 件",
  "an.w.high_frequency": "{count} 件相似诉求：{sample}",
  "an.w.seasonal_due": "「{category}」{year} 年第 {week} 周将至，往年同期明显增多（{earlier}）",
  "an.w.risk_words": "{groups}：{words}",
  "risk.safety": "安全", "risk.mass_incident": "群体性事件", "risk.self_harm": "自伤", "risk.public_opinion": "舆情",
});

Object.assign(STRINGS.en, {
  "an.title": "Trends and warnings", "an.wallboard": "Wallboard", "an.reports": "Reports", "an.by": "By", "an.bucket": "Per",
  "an.trend": "Requests over time", "an.key": "Value", "an.total": "This period", "an.previous": "Period before", "an.change": "Change",
  "an.warnings": "Warnings (last 30 days)", "an.other": "other", "an.unknown": "not given", "an.cut": "too many requests: cut",
  "an.dim.type": "type", "an.dim.domain": "domain", "an.dim.category": "category", "an.dim.area": "area", "an.dim.channel": "channel", "an.dim.unit": "unit",
  "an.bucket.hour": "hour", "an.bucket.day": "day", "an.bucket.week": "week",
  "an.w.at": "Raised", "an.w.rule": "Rule", "an.w.what": "What", "an.w.threshold": "Threshold", "an.w.requests": "Requests",
  "an.rule.hot_spot": "hot spot", "an.rule.high_frequency": "high frequency", "an.rule.seasonal_due": "seasonal", "an.rule.risk_words": "risk words",
  "an.w.hot_spot": "{category} in {area} on {day}: {count} (usually {expected} a day)",
  "an.w.high_frequency": "{count} similar requests: {sample}",
  "an.w.seasonal_due": "{category}: week {week} of {year} is coming; it rose in earlier years ({earlier})",
  "an.w.risk_words": "{groups}: {words}",
  "risk.safety": "safety", "risk.mass_incident": "mass incident", "risk.self_harm": "self-harm", "risk.public_opinion": "public opinion",
});
