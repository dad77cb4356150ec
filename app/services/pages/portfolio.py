"""The apprenticeship page: progress, charts, readiness and what awaits the viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Apprenticeship, User
from app.services.pages import todos as actions
from app.services.pages.charts import BarChart, RadarChart, bar_chart, radar_chart
from app.services.progress.loader import load_progress
from app.services.progress.rules import Progress
from app.services.referentials.views import short_code


@dataclass(frozen=True)
class PortfolioPage:
    apprenticeship: Apprenticeship
    progress: Progress
    todo: actions.Todo
    bars: BarChart
    radar: RadarChart


def portfolio(
    session: Session, settings: Settings, actor: User, apprenticeship_id: int, today: date
) -> PortfolioPage:
    appr, progress = load_progress(session, settings, actor, apprenticeship_id, today)
    todo = actions.todos(session, actor, [appr], today, settings.review_overdue_days)[appr.id]
    items = [(short_code(b.code), b.acquired_percent) for b in progress.blocks]
    return PortfolioPage(appr, progress, todo, bar_chart(items), radar_chart(items))
