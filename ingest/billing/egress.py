"""Transfer-direction rules: a registry of text patterns compiled into one parameterized SQL CASE."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """Rows whose lower-cased transfer text matches any `patterns` (SQL LIKE) get `direction`."""

    direction: str
    patterns: tuple[str, ...]
    why: str


# First match wins. The text is what each format puts in `__xfer_text`: CUR transfer type + usage type +
# description, FOCUS x_UsageType + SkuMeter + ChargeDescription, GCP SKU description, Azure meter category /
# subcategory / name. Rate-card rows carry their direction already and never reach these rules.
RULES: tuple[Rule, ...] = (
    Rule("cross_zone", ("%xaz%", "%regional-bytes%", "%regional data transfer%", "%inter zone%", "%inter-zone%",
                        "%between availability zones%", "%intra-region%", "%intraregion%", "%cross-az%"),
         "between zones of one region (AWS IntraRegion-xAZ / DataTransfer-Regional, GCP inter-zone, Azure intra-region)"),
    Rule("in", ("%inbound%", "%-in-bytes%", "%data transfer in%", "%ingress%", "%transfer from%", "%upload%"),
         "traffic into the provider (AWS InterRegion/AWS Inbound, *-In-Bytes, GCP/Azure ingress)"),
    Rule("intra_zone", ("%intra zone%", "%intra-zone%", "%same zone%", "%same availability zone%"),
         "inside one zone"),
    Rule("inter_region", ("%interregion%", "%inter-region%", "%inter region%", "%-aws-out-bytes%", "%data transfer to %",
                          "%intra continent%", "%inter continent%", "%between regions%"),
         "between provider regions (AWS InterRegion Outbound, <from>-<to>-AWS-Out-Bytes, Azure Inter-Region)"),
    Rule("internet_out", ("%",),
         "every other transfer row: out to the internet (AWS Outbound, DataTransfer-Out-Bytes, egress to internet)"),
)


def case_sql(text_column: str) -> tuple[str, dict[str, object]]:
    """`CASE … END` giving the direction of `text_column` (NULL when it is NULL), with its parameters."""
    params: dict[str, object] = {}
    whens = []
    for i, rule in enumerate(RULES):
        likes = []
        for j, pat in enumerate(rule.patterns):
            params[f"xp{i}_{j}"] = pat
            likes.append(f"{text_column} LIKE $xp{i}_{j}")
        params[f"xd{i}"] = rule.direction
        whens.append(f"WHEN {' OR '.join(likes)} THEN $xd{i}")
    return f"CASE WHEN {text_column} IS NULL THEN NULL {' '.join(whens)} END", params
