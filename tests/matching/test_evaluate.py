"""The labelled-set metric itself: notes tickers count as right, wrong relations and extra tickers do not."""

from __future__ import annotations

from monitor.matching.csv_files import seed_universe
from monitor.matching.evaluate import evaluate, parse_labeled
from monitor.matching.index import MatchIndex
from monitor.matching.matcher import Matcher

LABELS = """entity_name,expected_ticker,relation,notes
China Electronics Technology Group Corporation,002415.SZ,parent,"also Westone 002268.SZ, Taiji 002368.SZ"
China Electronics Technology Group Corporation,002415.SZ,direct,wrong relation on purpose
Hikvision,002236.SZ,direct,wrong ticker on purpose
Megvii Technology,,none,unlisted
Yixin Science and Technology Co. Ltd.,,none,review band only
"""


def test_metric_counts_notes_tickers_and_penalises_mistakes() -> None:
    rows = parse_labeled(LABELS)
    assert rows[0].acceptable == {"002415.SZ", "002268.SZ", "002368.SZ"}
    result = evaluate(Matcher(MatchIndex.build(seed_universe())), rows)
    assert result.rows == 3
    assert result.rows_found == 1
    assert result.true_positives == 3
    assert sorted(result.false_positives) == [
        "China Electronics Technology Group Corporation -> 002268.SZ parent",
        "China Electronics Technology Group Corporation -> 002368.SZ parent",
        "China Electronics Technology Group Corporation -> 002415.SZ parent",
        "Hikvision -> 002415.SZ direct",
    ]
    assert result.precision == 3 / 7
    assert result.recall == 1 / 3
    assert result.none_confirmed == []
    assert result.none_review == ["Yixin Science and Technology Co. Ltd."]
