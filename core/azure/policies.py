"""The HTTP pipeline's guards: the token goes to the configured ARM origin only, and every wait is said aloud.

Both policies sit where the SDK client and the raw-read pipeline have their redirect and retry policies, so a
raw item page, an SDK pager's nextLink, a redirect and an LRO call all pass through them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from azure.core.pipeline.policies import RedirectPolicy, RetryPolicy

from core.endpoints import Origin, check_same_origin
from core.errors import Throttled
from core.sanitize import one_line

# A redirect that ARM itself would send is one hop (a moved resource); a chain of them is a loop or a trap.
MAX_REDIRECTS = 5
# The longest wait a Retry-After may ask of a read. Longer, and the operator hears why instead of a silent hang.
MAX_RETRY_AFTER = 120.0


class PinnedRedirectPolicy(RedirectPolicy[Any, Any]):
    """azure-core's redirect policy, with every request and every redirect target held to one origin.

    It runs before the retry and authentication policies: a request bound elsewhere is stopped before a token
    is attached to it, and a redirect elsewhere is neither followed nor believed.
    """

    def __init__(self, pinned: Origin, **kwargs: Any) -> None:
        kwargs.setdefault("redirect_max", MAX_REDIRECTS)
        super().__init__(**kwargs)
        self.pinned = pinned

    def send(self, request: Any) -> Any:
        check_same_origin(request.http_request.url, self.pinned, "A request (a list's nextLink, or an LRO URL)")
        return super().send(request)

    def increment(self, settings: dict[str, Any], response: Any, redirect_location: str) -> bool:
        more: bool = super().increment(settings, response, redirect_location)
        # super() has resolved a relative Location against the request: check where it really goes.
        check_same_origin(response.http_request.url, self.pinned, "A redirect from ARM")
        return more


class AnnouncedRetryPolicy(RetryPolicy[Any, Any]):
    """azure-core's retry policy, saying each wait before it starts (what failed, how long, which attempt), and
    refusing a Retry-After longer than MAX_RETRY_AFTER rather than hanging on it."""

    def __init__(self, notice: Callable[[str], None], *, max_wait: float = MAX_RETRY_AFTER, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._notice = notice
        self.max_wait = max_wait

    def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
        attempt = len(settings["history"])
        of = f"attempt {attempt + 1} of {attempt + 1 + max(0, settings['total'])}"
        if response is not None:
            status = response.http_response.status_code
            asked = self.get_retry_after(response)
            if asked is not None:
                if not math.isfinite(asked) or asked > self.max_wait:
                    shown = f"{asked:.0f} s" if math.isfinite(asked) else "forever"
                    raise Throttled(
                        f"Azure answered HTTP {status} and asks the tool to wait {shown} before trying again; it "
                        f"waits at most {self.max_wait:.0f} s.",
                        status=status,
                        code="RetryAfterTooLong",
                        hint="Azure Resource Manager is throttling this subscription or is unwell. Wait, then "
                        "retry; other tools on the subscription share the same limits.",
                    )
                asked = max(0.0, asked)
                why = "throttled" if status == 429 else "busy"
                self._say(f"Azure answered HTTP {status} ({why}) and asks to wait {asked:.0f} s: waiting ({of}).")
                transport.sleep(asked)
                return
            self._say(f"Azure answered HTTP {status}: trying again in {self.get_backoff_time(settings):.0f} s ({of}).")
        else:
            last = settings["history"][-1].error if settings["history"] else None
            reason = one_line(str(last).splitlines()[0] if last and str(last) else type(last).__name__, 120)
            wait = self.get_backoff_time(settings)
            self._say(f"No answer from Azure ({reason}): trying again in {wait:.0f} s ({of}).")
        self._sleep_backoff(settings, transport)

    def _say(self, text: str) -> None:
        try:
            self._notice(text)
        except Exception:  # a notice that cannot be shown must not fail the request it is about
            pass


__all__ = ["MAX_REDIRECTS", "MAX_RETRY_AFTER", "AnnouncedRetryPolicy", "PinnedRedirectPolicy"]
