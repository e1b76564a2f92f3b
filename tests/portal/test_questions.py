"""Questions and answers: visibility of private questions, answers, votes, the best answer."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Resource, User
from portal.models.store import Answer, AnswerVote, Question
from portal.services import questions as qa
from portal.services import store


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def _ask(db, asker="bj_cm", **data) -> int:
    with db.session() as s, s.begin():
        return qa.ask(s, _user(s, asker), {"title": "代发客户怎么定义？", **data}).id


def test_public_question_answered_voted_and_resolved(db):
    qid = _ask(db, body="口径是什么")
    with db.session() as s, s.begin():
        a1 = qa.answer(s, _user(s, "analyst"), qid, "连续三个月有代发入账")
        a2 = qa.answer(s, _user(s, "owner"), qid, "看 dim_customer.payroll_flag")
        a1_id, a2_id = a1.id, a2.id
        qa.vote(s, _user(s, "sh_cm"), a2_id)
        qa.vote(s, _user(s, "sh_cm"), a2_id)  # idempotent
        qa.vote(s, _user(s, "leader"), a2_id)
        with pytest.raises(Forbidden):
            qa.vote(s, _user(s, "owner"), a2_id)  # not one's own answer
        with pytest.raises(Forbidden):
            qa.choose_best(s, _user(s, "analyst"), qid, a1_id)  # only the asker
        with pytest.raises(Invalid):
            qa.choose_best(s, _user(s, "bj_cm"), qid, 99999)
        qa.choose_best(s, _user(s, "bj_cm"), qid, a1_id)
    with db.session() as s, s.begin():
        question = qa.get_question(s, _user(s, "sh_cm"), qid)
        data = qa.question_dict(s, question, _user(s, "sh_cm"), detail=True)
        assert data["status"] == "resolved" and data["best_answer_id"] == a1_id
        assert data["answer_count"] == 2
        assert [a["id"] for a in data["answers"]] == [a1_id, a2_id]  # best first
        assert data["answers"][1]["vote_count"] == 2 and data["answers"][1]["voted"]
        # Changing the best answer moves the mark.
        qa.choose_best(s, _user(s, "bj_cm"), qid, a2_id)
        assert [a.is_best for a in s.scalars(select(Answer).order_by(Answer.id))] == [False, True]
        qa.vote(s, _user(s, "sh_cm"), a2_id, up=False)
        assert s.get(Answer, a2_id).vote_count == 1
        resource = s.get(Resource, question.resource_id)
        assert resource.type == "question" and resource.spec["published"] is True


def test_private_question_is_seen_by_asker_invited_and_admins_only(db):
    qid = _ask(db, is_public=False, invite=["analyst"])
    public = _ask(db, asker="sh_cm", title="公开问题")
    with db.session() as s, s.begin():
        for name in ("bj_cm", "analyst", "admin"):
            qa.get_question(s, _user(s, name), qid)
        for name in ("sh_cm", "leader"):
            with pytest.raises(NotFound):
                qa.get_question(s, _user(s, name), qid)
            with pytest.raises(NotFound):
                qa.answer(s, _user(s, name), qid, "偷看")
        assert [q["id"] for q in qa.list_questions(s, _user(s, "sh_cm"))["items"]] == [public]
        assert {q["id"] for q in qa.list_questions(s, _user(s, "analyst"))["items"]} == {
            qid,
            public,
        }
        qa.answer(s, _user(s, "analyst"), qid, "我来答")
        answer_id = s.scalar(select(Answer.id).where(Answer.question_id == qid))
        with pytest.raises(NotFound):
            qa.vote(s, _user(s, "leader"), answer_id)
        assert s.get(Resource, s.get(Question, qid).resource_id).spec["published"] is False


def test_questions_on_an_app_and_bad_input(db):
    with db.session() as s, s.begin():
        app = store.create_app(
            s,
            _user(s, "analyst"),
            {"title_zh": "预算达成", "kind": "external", "target_url": "/dashboards/budget"},
        )
        app_id = app.id
        store.submit_app(s, _user(s, "analyst"), app_id)
        store.review_app(s, _user(s, "admin"), app_id, "approve")
    qid = _ask(db, app_id=app_id)
    with db.session() as s, s.begin():
        cm = _user(s, "bj_cm")
        listed = qa.list_questions(s, cm, app_id=app_id)
        assert [q["id"] for q in listed["items"]] == [qid] and listed["total"] == 1
        for data, code in (
            ({"title": ""}, "missing_field"),
            ({"title": "x" * 201}, "too_long"),
            ({"title": "ok", "is_public": "yes"}, "bad_public"),
            ({"title": "ok", "invite": ["nobody"]}, "bad_invites"),
            ({"title": "ok", "app_id": 99999}, "bad_app"),
        ):
            with pytest.raises(Invalid) as error:
                qa.ask(s, cm, data)
            assert error.value.code == code
        with pytest.raises(Invalid):
            qa.answer(s, cm, qid, "")
        with pytest.raises(Invalid):
            qa.list_questions(s, cm, status="closed")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 1


def test_concurrent_votes_are_counted_exactly(db):
    qid = _ask(db)
    with db.session() as s, s.begin():
        answer_id = qa.answer(s, _user(s, "analyst"), qid, "答案").id
        crowd = [User(username=f"voter{i:02d}", display_name=f"V{i}", branch_id="HO")
                 for i in range(16)]  # fmt: skip
        s.add_all(crowd)
        s.flush()
        ids = [u.id for u in crowd]
    jobs = [uid for uid in ids for _ in range(2)]
    barrier = threading.Barrier(len(jobs))
    errors = []

    def work(uid):
        try:
            barrier.wait(timeout=30)
            with db.session() as s, s.begin():
                qa.vote(s, s.get(User, uid), answer_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with db.session() as s:
        assert s.get(Answer, answer_id).vote_count == 16
        assert s.scalar(select(func.count()).select_from(AnswerVote)) == 16


def test_answer_and_best_notify(db):
    from portal.models.social import Message

    qid = _ask(db, is_public=False, invite=["owner"])
    with db.session() as s, s.begin():
        answer_id = qa.answer(s, _user(s, "owner"), qid, "看口径文档").id
        qa.choose_best(s, _user(s, "bj_cm"), qid, answer_id)
    with db.session() as s:
        owner, cm = _user(s, "owner"), _user(s, "bj_cm")
        owner_msgs = s.scalars(select(Message.kind).where(Message.user_id == owner.id)).all()
        cm_msgs = s.scalars(select(Message.kind).where(Message.user_id == cm.id)).all()
        assert owner_msgs == ["answer", "answer"]  # invited, then chosen as best
        assert cm_msgs == ["answer"]
