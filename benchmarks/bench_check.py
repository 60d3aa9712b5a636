"""`ipl check` (parse + check, in process) of a generated 2,000-line policy.

Target (docs/performance.md, "Checking"): under 1 s on the development machine. The
policy is built to exercise every stage: inputs with ranges, params, chained metrics,
flat and marginal tables (E401/W101 range analysis), matches, ifs, scorecards,
components with requires, floors and caps, a total. Under `--benchmark-disable` (the
default in pyproject) the body runs once, so the suite stays fast.
"""

from __future__ import annotations


from dsl.checker.driver import Loaded, check_loaded
from dsl.front.diagnostics import Diagnostics
from dsl.front.syntax import parse_bytes


def generate_policy(lines: int = 2_000) -> str:
    """A clean policy of about `lines` lines; blocks of 20 lines repeat with fresh names."""
    out = [
        'policy "Generated" currency USD',
        "input partner_id : id",
        "input segment : enum(enterprise, midmarket, digital)",
        "input csat : number in 1..5",
        "param base_rate : percent = 10%",
        "eligibility {",
        '  require csat >= 3.5 else "CSAT must be at least 3.5"',
        "}",
    ]
    i = 0
    while len(out) < lines:
        out += [
            f"input revenue_{i} : money in 0 USD..",
            f"input due_{i} : count",
            f"input won_{i} : count",
            f"input score_{i} : number in 0..100",
            f"metric rate_{i} : percent = won_{i} / due_{i} otherwise 0%",
            f"metric grown_{i} = revenue_{i} * (100% + rate_{i} / 2)",
            f"tiers tier_{i} on rate_{i} {{",
            "  below 80% -> 0%",
            "  from 80% -> 2%",
            "  from 90% -> 4%",
            "}",
            f"tiers points_{i} on score_{i} marginal {{ from 0 -> 0 USD  from 60 -> 100 USD  from 80 -> 250 USD }}",
            f"component part_{i} = grown_{i} * base_rate * tier_{i} * match segment {{",
            "  enterprise -> 1.2  midmarket -> 1.0  digital -> 0.8",
            "}",
            f"  require score_{i} >= 60 else \"score {i} below 60\"",
            "  floor 0 USD",
            f"  cap max(50_000 USD, revenue_{i} * 5%)",
            f"component extra_{i} = if rate_{i} >= 95% then points_{i} else min(points_{i}, 1_000 USD)",
            "",
        ]
        i += 1
    out += ["total {", "  floor 500 USD", "  cap 10_000_000 USD", "}"]
    return "\n".join(out) + "\n"


def check_text(text: str):
    diags = Diagnostics()
    source, file = parse_bytes("generated.ipl", text.encode(), diags)
    result = check_loaded(Loaded("generated.ipl", source, file), diags)
    return result, diags


def test_check_2000_lines(benchmark):
    text = generate_policy(2_000)
    assert text.count("\n") >= 2_000
    result, diags = benchmark(check_text, text)
    assert [f"{d.code}: {d.message}" for d in diags.sorted()] == []
    assert result is not None and len(result.components) == 2 * 100


if __name__ == "__main__":  # print the policy: `python -m benchmarks.bench_check > p.ipl`
    print(generate_policy(), end="")
