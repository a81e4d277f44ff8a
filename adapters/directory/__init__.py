"""The built-in org sources: the HR directories Chinese companies run on (DingTalk,
Feishu/Lark, WeCom). Every tenant has them; packs add their own
(``goalgraph_org_sources``)."""

from __future__ import annotations

from ..org_source import OrgSource
from .dingtalk import DingTalkSource
from .feishu import FeishuSource
from .wecom import WeComSource

BUILT_IN: dict[str, type[OrgSource]] = {
    source.name: source for source in (DingTalkSource, FeishuSource, WeComSource)
}

__all__ = ["BUILT_IN", "DingTalkSource", "FeishuSource", "WeComSource"]
