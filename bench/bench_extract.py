"""Main-text extraction on the corpus's Chinese pages, before and after in one run.

"before" is trafilatura alone with the dense-block fallback (what ``extract_main`` did
until the density extractor came); "after" is ``crawler.article.extract_article`` (both
extractors, the choice between them, list pages, checked title/author/time). Each page
is decoded once, then each extractor runs on it in turn, ``ROUNDS`` times; the table
shows the median per page and the similarity to the expected text where there is one
(rapidfuzz ``fuzz.ratio`` over the texts with all whitespace removed).

``python -m bench extract``. Reads ../shared/corpus (two sets are copyleft: read, never copied).
"""

from __future__ import annotations

import statistics
import time

ROUNDS = 3


def _pages():
    from tests.conftest import CORPUS
    from tests.crawler.test_extraction_quality import LIST_PAGES, UNSCORED, expected_cases

    cases = [(rel, expected, metric) for _name, rel, expected, metric in expected_cases()]
    cases += [(rel, None, None) for rel in [*UNSCORED, *LIST_PAGES]]
    return CORPUS, cases


def main() -> None:
    from crawler.article import by_trafilatura, extract_article
    from crawler.encoding import decode
    from tests.crawler.test_extraction_quality import score

    corpus, cases = _pages()
    texts = {rel: decode((corpus / rel).read_bytes(), "text/html").text for rel, _, _ in cases}
    extract_article(texts[cases[0][0]])  # imports and first-call set-up out of the timing
    before: dict[str, list[float]] = {rel: [] for rel in texts}
    after: dict[str, list[float]] = {rel: [] for rel in texts}
    outputs: dict[str, tuple[dict, dict]] = {}
    for _ in range(ROUNDS):
        for rel, page in texts.items():
            t = time.perf_counter()
            old = by_trafilatura(page, None)
            before[rel].append(time.perf_counter() - t)
            t = time.perf_counter()
            new = extract_article(page, None)
            after[rel].append(time.perf_counter() - t)
            outputs[rel] = (old, new)
    print(f"{'page':46} {'before':>7} {'after':>7} {'sim before':>10} {'sim after':>9} method")
    tb = ta = 0.0
    for rel, expected, metric in cases:
        b, a = statistics.median(before[rel]), statistics.median(after[rel])
        tb, ta = tb + b, ta + a
        old, new = outputs[rel]
        sims = ("", "")
        if expected is not None:
            sims = (
                f"{score(old['text'], expected, metric):.3f}",
                f"{score(new['text'], expected, metric):.3f}",
            )
        print(
            f"{rel[-46:]:46} {b * 1000:6.0f}ms {a * 1000:6.0f}ms {sims[0]:>10} {sims[1]:>9} "
            f"{new.get('method')}"
        )
    print(
        f"{len(cases)} pages, median of {ROUNDS} rounds summed: before {tb:.2f} s, "
        f"after {ta:.2f} s ({(ta / tb - 1) * 100:+.0f} %)"
    )


if __name__ == "__main__":
    main()
