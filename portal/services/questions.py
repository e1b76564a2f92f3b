"""Questions and answers (互助问答, SPEC §6.1): ask, answer, vote, choose the best answer.

A question is on an app or general, public or private. A private question is seen only by its
asker, the users invited to answer it and administrators (anyone else gets "not found"). Every
question is also a Resource of type "question" (published while public, so search finds it).
Votes are unique per user and answer; the answer's count moves by an atomic UPDATE in the same
transaction as the vote's INSERT ... ON CONFLICT DO NOTHING. Functions never commit.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Resource, User
from portal.models.base import utcnow
from portal.models.store import Answer, AnswerVote, Question, question_invites
from portal.services.store import (
    _insert_once,
    _notify,
    _text,
    check_page,
    get_app,
    get_row,
    is_admin,
    paginate,
    user_names,
)

TITLE_MAX = 200
BODY_MAX = 5000
MAX_INVITES = 20


def can_see(user, question: Question) -> bool:
    """Return whether the user may see the question (public, asker, invited or admin)."""
    if question.is_public or question.asker_id == user.id or is_admin(user):
        return True
    return any(u.id == user.id for u in question.invited)


def _visible_clause(user):
    if is_admin(user):
        return None
    invited = exists().where(
        question_invites.c.question_id == Question.id, question_invites.c.user_id == user.id
    )
    return or_(Question.is_public.is_(True), Question.asker_id == user.id, invited)


def get_question(session: Session, user, question_id: Any) -> Question:
    """Return a question the user may see, else NotFound (the same for hidden and missing)."""
    question = get_row(session, Question, question_id)
    if question is None or not can_see(user, question):
        raise NotFound(_("This question does not exist."), code="question_not_found")
    if question.app_id is not None:
        try:
            get_app(session, user, question.app_id)
        except NotFound:
            raise NotFound(_("This question does not exist."), code="question_not_found") from None
    return question


def _invitees(session: Session, value: Any) -> list[User]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").split(",") if v.strip()]
    if not isinstance(value, list) or len(value) > MAX_INVITES:
        raise Invalid(
            _("Invite at most %(n)d users, by user name.", n=MAX_INVITES), code="bad_invites"
        )
    users = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            user = session.get(User, item)
        elif isinstance(item, str):
            user = session.scalar(select(User).where(User.username == item.strip()))
        else:
            user = None
        if user is None or not user.is_active:
            raise Invalid(
                _("Unknown user to invite: %(name)s", name=str(item)[:64]), code="bad_invites"
            )
        if user not in users:
            users.append(user)
    return users


def ask(session: Session, user, data: Any) -> Question:
    """Ask a question, general or on an app the user can see; invite answerers; notify them."""
    if not isinstance(data, dict):
        raise Invalid(_("Send the question as a JSON object."), code="bad_body")
    title = _text(data.get("title"), field=_("The question"), limit=TITLE_MAX, required=True)
    body = _text(data.get("body"), field=_("The details"), limit=BODY_MAX)
    is_public = data.get("is_public", True)
    if not isinstance(is_public, bool):
        raise Invalid(_("Say whether the question is public: true or false."), code="bad_public")
    app = None
    if data.get("app_id") not in (None, ""):
        try:
            app = get_app(session, user, data.get("app_id"))
        except NotFound:
            raise Invalid(_("The app you ask about does not exist."), code="bad_app") from None
    invited = _invitees(session, data.get("invite"))
    title = title.strip()
    resource = Resource(
        type="question",
        title_zh=title[:200],
        title_en=title[:200],
        description=body,
        owner_id=user.id,
        spec={"published": False},
    )
    session.add(resource)
    session.flush()
    question = Question(
        resource_id=resource.id,
        app_id=app.id if app else None,
        asker_id=user.id,
        title=title,
        body=body,
        is_public=is_public,
        status="open",
    )
    question.invited = invited
    session.add(question)
    session.flush()
    resource.spec = {
        "url": f"/questions?id={question.id}",
        "published": is_public,
        "app_id": question.app_id,
    }
    session.flush()
    who = getattr(user, "display_name", None) or user.username
    for invitee in invited:
        _notify(
            session, invitee.id, "answer",
            f"{who} 邀请你回答：{title[:80]}", f"{who} invited you to answer: {title[:80]}",
            body[:300] if body else None, f"/questions?id={question.id}", actor_id=user.id,
        )  # fmt: skip
    return question


def question_dict(
    session: Session,
    question: Question,
    user,
    *,
    detail: bool = False,
    names: dict[int, dict] | None = None,
) -> dict:
    """Return a question as a JSON-ready dict; `detail` adds its answers, best first.

    `names` (from `user_names`) saves a query per question when turning many into dicts.
    """
    if names is None:
        names = user_names(session, [question.asker_id])
    data = {
        "id": question.id,
        "resource_id": question.resource_id,
        "app_id": question.app_id,
        "title": question.title,
        "body": question.body,
        "is_public": question.is_public,
        "status": question.status,
        "asker": names.get(question.asker_id),
        "answer_count": question.answer_count,
        "best_answer_id": question.best_answer_id,
        "invited": [
            {"id": u.id, "username": u.username, "name": u.display_name} for u in question.invited
        ],  # fmt: skip
        "created_at": question.created_at.isoformat() if question.created_at else None,
    }
    if detail:
        answers = session.scalars(
            select(Answer)
            .where(Answer.question_id == question.id)
            .order_by(Answer.is_best.desc(), Answer.vote_count.desc(), Answer.created_at)
        ).all()
        voted = set(
            session.scalars(
                select(AnswerVote.answer_id).where(
                    AnswerVote.user_id == user.id,
                    AnswerVote.answer_id.in_([a.id for a in answers] or [0]),
                )
            )
        )
        authors = user_names(session, [a.author_id for a in answers])
        data["answers"] = [
            {
                "id": a.id,
                "author": authors.get(a.author_id),
                "body": a.body,
                "vote_count": a.vote_count,
                "is_best": a.is_best,
                "voted": a.id in voted,
                "created_at": a.created_at.isoformat() if a.created_at else None,
            }
            for a in answers
        ]
        data["may_choose_best"] = question.asker_id == user.id
    return data


def list_questions(
    session: Session,
    user,
    *,
    app_id: Any = None,
    status: str | None = None,
    mine: bool = False,
    q: str | None = None,
    page: Any = 1,
    per_page: Any = 20,
) -> dict:
    """Return one page of the questions the user may see, newest first."""
    page, per_page = check_page(page, per_page)
    query = select(Question)
    clause = _visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    if app_id not in (None, ""):
        app = get_app(session, user, app_id)
        query = query.where(Question.app_id == app.id)
    if status not in (None, ""):
        if status not in ("open", "resolved"):
            raise Invalid(_("The status must be open or resolved."), code="bad_status")
        query = query.where(Question.status == status)
    if mine:
        query = query.where(Question.asker_id == user.id)
    if q and str(q).strip():
        text = str(q).strip()[:100]
        pattern = "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        query = query.where(Question.title.like(pattern, escape="/"))
    query = query.order_by(Question.created_at.desc(), Question.id.desc())
    rows, total = paginate(session, query, page, per_page)
    names = user_names(session, [r.asker_id for r in rows])
    return {
        "items": [question_dict(session, r, user, names=names) for r in rows],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def answer(session: Session, user, question_id: Any, body: Any) -> Answer:
    """Answer a question the user can see; the asker is notified."""
    question = get_question(session, user, question_id)
    text = _text(body, field=_("The answer"), limit=BODY_MAX, required=True)
    item = Answer(question_id=question.id, author_id=user.id, body=text)
    session.add(item)
    session.flush()
    session.execute(
        update(Question)
        .where(Question.id == question.id)
        .values(answer_count=Question.answer_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(question)
    who = getattr(user, "display_name", None) or user.username
    _notify(
        session, question.asker_id, "answer",
        f"{who} 回答了你的问题：{question.title[:80]}",
        f"{who} answered your question: {question.title[:80]}",
        text[:300], f"/questions?id={question.id}", actor_id=user.id,
    )  # fmt: skip
    return item


def _answer(session: Session, user, answer_id: Any) -> Answer:
    item = get_row(session, Answer, answer_id)
    if item is None:
        raise NotFound(_("This answer does not exist."), code="answer_not_found")
    try:
        get_question(session, user, item.question_id)
    except NotFound:
        raise NotFound(_("This answer does not exist."), code="answer_not_found") from None
    return item


def vote(session: Session, user, answer_id: Any, up: bool = True) -> Answer:
    """Up-vote an answer (idempotent) or withdraw the vote; not one's own answer."""
    item = _answer(session, user, answer_id)
    if item.author_id == user.id:
        raise Forbidden(_("You cannot vote for your own answer."), code="own_answer")
    if up:
        changed = _insert_once(
            session,
            AnswerVote,
            {"answer_id": item.id, "user_id": user.id, "created_at": utcnow()},
            ["answer_id", "user_id"],
        )
        delta = 1 if changed else 0
    else:
        delta = -session.execute(
            delete(AnswerVote).where(AnswerVote.answer_id == item.id, AnswerVote.user_id == user.id)
        ).rowcount
    if delta:
        session.execute(
            update(Answer)
            .where(Answer.id == item.id)
            .values(vote_count=Answer.vote_count + delta)
            .execution_options(synchronize_session=False)
        )
    session.refresh(item)
    return item


def choose_best(session: Session, user, question_id: Any, answer_id: Any) -> Question:
    """Mark one answer as the best (the asker only); the question becomes resolved."""
    question = get_question(session, user, question_id)
    if question.asker_id != user.id:
        raise Forbidden(_("Only the asker may choose the best answer."), code="not_asker")
    item = get_row(session, Answer, answer_id)
    if item is None or item.question_id != question.id:
        raise Invalid(_("Choose one of this question's answers."), code="bad_answer")
    session.execute(
        update(Answer)
        .where(Answer.question_id == question.id, Answer.id != item.id)
        .values(is_best=False)
        .execution_options(synchronize_session=False)
    )
    item.is_best = True
    question.best_answer_id = item.id
    question.status = "resolved"
    session.flush()
    session.refresh(item)
    _notify(
        session, item.author_id, "answer",
        f"你的回答被选为最佳答案：{question.title[:80]}",
        f"Your answer was chosen as the best: {question.title[:80]}",
        None, f"/questions?id={question.id}", actor_id=user.id,
    )  # fmt: skip
    return question
