"""The seed roadmap's decision framework as checks a move must pass before it is priced as an option.

Latency budget first, then trust zones, then the workload type: a move that breaks one is refused with the reason,
whatever it would save. (A model too large for the target's accelerators would be a fourth check; the store holds no
model sizes or accelerator memory yet, so it is not made.)
"""

from __future__ import annotations

from collections.abc import Mapping

from queries.policy import Policy

NOT_ON_DEVICES = ("training", "batch", "embedding")  # asynchronous work the seed places in the cloud


def refusal(portion: Mapping[str, object], from_tier: str, to_tier: str, caller: str | None,
            policy: Policy) -> str | None:
    """Why moving this portion (a scorecard_inputs row) to `to_tier` breaks the framework, else None."""
    wtype = portion.get("workload_type")
    if to_tier == "device" and wtype in NOT_ON_DEVICES:
        return (f"{wtype} work does not run on devices: a device serves its own user's interactive requests, and "
                f"{wtype} belongs to the cloud tiers")
    data_class = portion.get("data_class")
    allowed = policy.trust_zones.get(str(data_class)) if isinstance(data_class, str) else None
    if allowed is not None and to_tier not in allowed:
        return (f"{data_class} data may stay only in {', '.join(allowed)} ([trust_zones] in tierwise.toml): "
                f"{to_tier} is outside its trust zone")
    if to_tier == "device" and from_tier != "device" and caller != "device":
        source = f"from {caller}" if caller else f"where they start, in {from_tier}"
        return (f"a device serves only its own user, and this portion's requests come {source}, not from a device: "
                "no device can take them")
    return None
