"""Placement recommendations: the rule registry, evidence collection and ranking by value."""

from __future__ import annotations

from queries.recommend.engine import RULES, as_frame, collect, rank, recommend, run, to_json
from queries.recommend.model import Evidence, Recommendation, Rule, Thresholds

__all__ = ["RULES", "Evidence", "Recommendation", "Rule", "Thresholds", "as_frame", "collect", "rank", "recommend", "run",
           "to_json"]
