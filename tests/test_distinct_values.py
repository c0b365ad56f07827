"""with_per_combination gives exactly what a per-row with_columns gives: NULL keys, row order, an
existing column replaced in place, lazy frames."""
import polars as pl
from polars.testing import assert_frame_equal

from assets.segments.distinct_values import with_per_combination

FRAME = pl.DataFrame({
    "id": [5, 3, 9, 1, 7, 2],
    "source": ["google", None, "google", "bing", None, "google"],
    "medium": ["cpc", "email", "cpc", None, "email", "organic"],
    "label": ["x"] * 6,
})
EXPR = (pl.col("source").fill_null("(none)") + "/" + pl.col("medium").fill_null("(none)")).str.to_uppercase()


def test_equals_a_per_row_evaluation_in_row_order_with_null_keys():
    got = with_per_combination(FRAME, ["source", "medium"], EXPR, "channel")
    assert_frame_equal(got, FRAME.with_columns(EXPR.alias("channel")))
    assert got["channel"].to_list() == ["GOOGLE/CPC", "(NONE)/EMAIL", "GOOGLE/CPC", "BING/(NONE)",
                                        "(NONE)/EMAIL", "GOOGLE/ORGANIC"]


def test_an_existing_column_is_replaced_in_place_and_lazy_frames_work():
    for name in ("label", "source"):
        got = with_per_combination(FRAME.lazy(), ["source", "medium"], EXPR, name).collect()
        assert_frame_equal(got, FRAME.with_columns(EXPR.alias(name)))
