"""The big list without the UI: raw JSON pages (what the product reads) against the SDK's model objects.

Run as `python -m bench.listing --scenario PATH --mode raw|sdk`; prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench.common import emit, rss_mb


def measure(scenario: str, mode: str) -> dict[str, float]:
    from core.bootstrap import build_backend
    from core.clock import ManualClock
    from core.config import Settings

    backend = build_backend(Settings(demo=True, scenario=scenario), clock=ManualClock())
    gc.collect()
    before = rss_mb()["rss_mb"]
    start = time.perf_counter()
    first_page = 0.0
    count = 0
    if mode == "raw":
        for page in backend.iter_item_pages():
            if not first_page:
                first_page = time.perf_counter() - start
            count += len(page)
    else:
        # The SDK pager yields item by item; it deserialises a page before it yields its first item.
        for _item in _sdk_items(backend):
            if not first_page:
                first_page = time.perf_counter() - start
            count += 1
    total = time.perf_counter() - start
    memory = rss_mb()
    return {
        "items": count,
        "first_page_s": first_page,
        "full_list_s": total,
        "rss_mb": memory["rss_mb"],
        "peak_rss_mb": memory["peak_rss_mb"],
        "rss_growth_mb": memory["rss_mb"] - before,
    }


def _sdk_items(backend):  # type: ignore[no-untyped-def]
    from core.azure import mapping

    client = backend._client
    pager = client.replication_protected_items.list(backend.vault.resource_group, backend.vault.name)
    for model in pager:
        yield mapping.protected_item(model.as_dict())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--mode", choices=("raw", "sdk"), required=True)
    args = parser.parse_args()
    emit(measure(args.scenario, args.mode))


if __name__ == "__main__":
    main()
