"""All models, imported here so metadata is complete for Alembic and the app."""

from app.models.apprenticeship import Apprenticeship
from app.models.audit import AuditChainHead, AuditEvent
from app.models.auth import ApiToken, AuthSession, LoginFailure
from app.models.base import Base
from app.models.certification import (
    BlockTransversalLink,
    Certification,
    Competency,
    CompetencyBlock,
    DegreeRequirements,
    RatingLevel,
)
from app.models.degree import CEFR_LEVELS, EnglishResult, MobilityPeriod
from app.models.journal import Attachment, SituationStatus, WorkSituation, situation_competencies
from app.models.mail import MailStatus, OutboxMessage, ReminderLog
from app.models.organisation import Cohort, Organisation, OrganisationKind
from app.models.party import Party
from app.models.review import (
    CompetencyRating,
    PartyAssessment,
    RatingSource,
    SemesterReview,
    Signature,
)
from app.models.signin import (
    AccountLink,
    AccountLinkPurpose,
    SignCode,
    SignInLink,
    ThrottleEvent,
)
from app.models.user import User

__all__ = [
    "CEFR_LEVELS",
    "AccountLink",
    "AccountLinkPurpose",
    "ApiToken",
    "Apprenticeship",
    "Attachment",
    "AuditChainHead",
    "AuditEvent",
    "AuthSession",
    "Base",
    "BlockTransversalLink",
    "Certification",
    "Cohort",
    "Competency",
    "CompetencyBlock",
    "CompetencyRating",
    "DegreeRequirements",
    "EnglishResult",
    "LoginFailure",
    "MailStatus",
    "MobilityPeriod",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "Party",
    "PartyAssessment",
    "RatingLevel",
    "RatingSource",
    "ReminderLog",
    "SemesterReview",
    "SignCode",
    "SignInLink",
    "Signature",
    "SituationStatus",
    "ThrottleEvent",
    "User",
    "WorkSituation",
    "situation_competencies",
]
