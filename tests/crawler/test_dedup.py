"""crawler.dedup computes datasketch's own signatures without importing it (the daemon
saves ~60 MB) and its compact index finds what datasketch's MinHashLSH finds."""

from __future__ import annotations

import random
import subprocess
import sys

from crawler import dedup

WORDS = [
    "江西",
    "警察",
    "学院",
    "食堂",
    "宿舍",
    "考试",
    "校园",
    "学生",
    "老师",
    "通知",
    "活动",
    "比赛",
    "讲座",
    "图书馆",
    "运动会",
    "就业",
    "招生",
]


def _texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    base = ["".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) for _ in range(n)]
    # and reposts: a changed headline, a source line added, a few words dropped
    reposts = [f"转自某论坛：{t[: len(t) * 9 // 10]}" for t in base[: n // 3]]
    return base + reposts + ["", "短", "江西警"]


def test_signatures_are_byte_for_byte_datasketchs():
    from datasketch import LeanMinHash, MinHash

    for text in _texts(60):
        m = MinHash(num_perm=128, seed=1)
        sh = dedup._shingles(text)
        if sh:
            m.update_batch(list(sh))
        lm = LeanMinHash(m)
        buf = bytearray(lm.bytesize())
        lm.serialize(buf)
        assert dedup.signature(text) == bytes(buf), text
        assert (dedup.load(bytes(buf)) == lm.hashvalues).all()


def test_the_index_finds_what_datasketchs_lsh_finds():
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    assert (lsh.b, lsh.r) == (dedup.BANDS, dedup.ROWS)
    ours = dedup.NearDuplicateIndex()
    sigs = [dedup.signature(t) for t in _texts(150)]
    stored = {}
    for key, sig in enumerate(sigs[:120]):
        ours.add(key, sig)
        stored[key] = LeanMinHash.deserialize(bytearray(sig))
        lsh.insert(key, stored[key])
    for sig in sigs:
        q = LeanMinHash.deserialize(bytearray(sig))
        theirs = sorted(k for k in lsh.query(q) if stored[k].jaccard(q) >= 0.7)
        assert sorted(ours.query(sig)) == theirs


def test_replacing_and_removing_keys():
    index = dedup.NearDuplicateIndex()
    a, b = (
        dedup.signature("江西警察学院食堂饭菜里吃出虫子，学校必须给个说法"),
        dedup.signature("运动会圆满结束"),
    )
    index.add(1, a)
    index.add(1, b)  # replaced
    assert len(index) == 1 and index.query(a) == [] and index.query(b) == [1]
    index.remove(1)
    assert 1 not in index and index.query(b) == []
    for k in range(3000):  # grows past its first block
        index.add(k, a)
    assert len(index) == 3000 and len(index.query(a)) == 3000


def test_the_daemons_near_duplicate_check_does_not_import_datasketch_or_scipy():
    code = (
        "import sys; from crawler.dedup import NearDuplicateIndex, signature; "
        "i = NearDuplicateIndex(); i.add(1, signature('江西警察学院')); i.query(signature('江西警察学院')); "
        "print('datasketch' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
