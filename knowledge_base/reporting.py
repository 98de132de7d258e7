"""Rendering the feedback report as Markdown (for the CLI, e-mails and the admin page)."""

from __future__ import annotations

from knowledge_base.feedback import Report


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())[:120]


def report_markdown(report: Report, titles: dict[str, str] | None = None) -> str:
    """A Markdown report: totals, unanswered questions, unhelpful articles."""
    titles = titles or {}
    since = report.since.strftime("%Y-%m-%d %H:%M UTC") if report.since else "the beginning"
    lines = [
        f"# Knowledge base report (since {since})",
        "",
        f"- Questions asked: **{report.questions}**",
        f"- Answered with confidence: **{report.answered}** ({report.answered_rate:.1%})",
        "",
        "## Questions without a confident answer (write these next)",
        "",
    ]
    if report.unanswered:
        lines += ["| Asked | Lang | Question | Last asked |", "|---:|---|---|---|"]
        for q in report.unanswered:
            last = q.last_asked.strftime("%Y-%m-%d")
            lines.append(f"| {q.count} | {q.language} | {_cell(q.question)} | {last} |")
    else:
        lines.append("None.")
    lines += ["", "## Articles often marked unhelpful", ""]
    if report.unhelpful_articles:
        lines += [
            "| Article | Title | Helpful | Unhelpful | Unhelpful rate | Recent comments |",
            "|---|---|---:|---:|---:|---|",
        ]
        for a in report.unhelpful_articles:
            comments = "; ".join(_cell(c) for c in a.comments) or "-"
            title = _cell(titles.get(a.article_id, "(deleted)"))
            lines.append(
                f"| {a.article_id} | {title} | {a.helpful} | {a.unhelpful} "
                f"| {a.unhelpful_rate:.0%} | {comments} |"
            )
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"
