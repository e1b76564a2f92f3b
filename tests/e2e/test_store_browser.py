"""The app store in a browser: publish, review, find, install, change my copy, comment.

The analyst publishes an app (creates it and submits it for review), the administrator
approves it, a customer manager finds it in /store, installs it, changes a parameter of their
own copy and comments; the analyst finds the notification in the message center and follows
it to the comment.
"""

from __future__ import annotations

import re

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser

TITLE = "端到端测试应用"
WAIT = 40


def _wait(driver, seconds: int = WAIT) -> WebDriverWait:
    """Wait, retrying when Dash re-renders an element between finding and reading it."""
    return WebDriverWait(driver, seconds, ignored_exceptions=[StaleElementReferenceException])


def _by_dict_id(driver, **parts):
    """Return the element whose Dash dict id holds every given key and value."""
    conditions = " and ".join(f'contains(@id, \'"{k}":"{v}"\')' for k, v in parts.items())
    return _wait(driver).until(EC.element_to_be_clickable((By.XPATH, f"//*[{conditions}]")))


def _logged_in(make_browser, base: str, username: str):
    driver = make_browser(1440, 1000, "zh-CN")
    log_in(driver, base, username)
    _wait(driver).until(EC.presence_of_element_located((By.CLASS_NAME, "portal-navbar")))
    return driver


def _set(driver, element_id: str, text: str) -> None:
    field = _wait(driver).until(EC.element_to_be_clickable((By.ID, element_id)))
    field.clear()
    field.send_keys(text)


def test_publish_review_install_customise_comment(app, live_server, make_browser):
    # The analyst publishes an app: a draft, submitted for review at once.
    analyst = _logged_in(make_browser, live_server, "analyst")
    analyst.get(live_server + "/store")
    _wait(analyst).until(EC.element_to_be_clickable((By.ID, "store-new-open"))).click()
    _set(analyst, "store-new-title-zh", TITLE)
    _set(analyst, "store-new-title-en", "E2E app")
    _set(analyst, "store-new-target", "/dashboards")
    _set(analyst, "store-new-tags", "端到端, e2e")
    _set(analyst, "store-new-params", '{"branch": "HO", "months": 12}')
    analyst.find_element(By.ID, "store-new-submit").click()
    _wait(analyst).until(EC.url_matches(r"/store/\d+$"))
    app_id = int(re.search(r"/store/(\d+)$", analyst.current_url).group(1))
    status = _wait(analyst).until(EC.presence_of_element_located((By.ID, "store-app-status")))
    assert status.text == "审核中"

    # The administrator approves it.
    admin = _logged_in(make_browser, live_server, "admin")
    admin.get(f"{live_server}/store/{app_id}")
    _by_dict_id(admin, action="approve").click()
    _wait(admin).until(EC.text_to_be_present_in_element((By.ID, "store-app-status"), "已上架"))

    # A customer manager finds it in the store and installs it.
    cm = _logged_in(make_browser, live_server, "bj_cm")
    cm.get(live_server + "/store")
    search = _wait(cm).until(EC.element_to_be_clickable((By.ID, "store-search")))
    search.send_keys(TITLE, Keys.ENTER)
    _wait(cm).until(EC.text_to_be_present_in_element((By.ID, "store-total"), "共 1 个应用"))

    def the_one_card(driver):
        titles = driver.find_elements(By.CLASS_NAME, "store-card-title")
        if [e.text for e in titles] == [TITLE]:
            return titles[0].get_attribute("href")
        return False

    cm.get(_wait(cm).until(the_one_card))
    _wait(cm).until(EC.url_matches(rf"/store/{app_id}$"))
    _wait(cm).until(EC.element_to_be_clickable((By.ID, "store-app-install"))).click()
    _wait(cm).until(EC.text_to_be_present_in_element((By.ID, "store-app-install"), "已安装"))

    # ... changes a parameter of their own copy ...
    months = _by_dict_id(cm, name="months", type="store-param")
    months.clear()
    months.send_keys("6")
    cm.find_element(By.ID, "store-params-save").click()
    _wait(cm).until(
        EC.text_to_be_present_in_element((By.ID, "store-params-feedback"), "参数已保存")
    )
    assert "months=6" in cm.find_element(By.ID, "store-copy-open").get_attribute("href")

    # ... and comments (the text is shown as text, never run as HTML).
    comment = "装好了，改成近 6 个月 <script>window.hacked=1</script>"
    _set(cm, "store-comment-text", comment)
    cm.find_element(By.ID, "store-comment-post").click()
    _wait(cm).until(EC.text_to_be_present_in_element((By.ID, "store-comment-list"), comment))
    assert cm.execute_script("return window.hacked === undefined")

    # The original app is untouched; the copy has its own parameters.
    from portal.db import get_db
    from portal.models import User
    from portal.models.social import Message
    from portal.models.store import AppInstall, StoreApp

    with app.app_context(), get_db().session() as s:
        assert s.get(StoreApp, app_id).params == {"branch": "HO", "months": 12}
        record = s.scalar(select(AppInstall).where(AppInstall.app_id == app_id))
        assert record.params == {"branch": "HO", "months": 6}
        author = s.scalar(select(User).where(User.username == "analyst"))
        kinds = set(s.scalars(select(Message.kind).where(Message.user_id == author.id)))
    assert {"review", "install", "comment"} <= kinds

    # The analyst's bell shows unread messages; the message center lists the comment, with
    # its text shown as text, and its link opens the app where the comment stands.
    analyst.get(f"{live_server}/messages")
    badge = _wait(analyst).until(EC.visibility_of_element_located((By.ID, "message-badge")))
    assert int(badge.text) >= 3
    _wait(analyst).until(
        lambda d: any(
            "评论了你的应用" in e.text and TITLE in e.text
            for e in d.find_elements(By.CSS_SELECTOR, ".msg-item.unread .msg-title")
        )
    )
    item = next(
        e
        for e in analyst.find_elements(By.CSS_SELECTOR, ".msg-item.unread")
        if "评论了你的应用" in e.text
    )
    assert comment in item.find_element(By.CLASS_NAME, "msg-body").text
    assert analyst.execute_script("return window.hacked === undefined")
    item.find_element(By.LINK_TEXT, "打开").click()
    _wait(analyst).until(EC.text_to_be_present_in_element((By.ID, "store-comment-list"), comment))


def test_ask_answer_vote_and_choose_the_best_answer(live_server, make_browser):
    question = "存款日均怎么算？"
    asker = _logged_in(make_browser, live_server, "bj_cm")
    asker.get(live_server + "/questions")
    _set(asker, "qa-ask-title", question)
    _set(asker, "qa-ask-body", "月日均还是年日均？")
    _set(asker, "qa-ask-invite", "analyst")
    asker.find_element(By.ID, "qa-ask").click()
    _wait(asker).until(EC.url_matches(r"/questions\?id=\d+$"))
    url = asker.current_url
    _wait(asker).until(EC.text_to_be_present_in_element((By.ID, "qa-detail"), question))

    helper = _logged_in(make_browser, live_server, "analyst")
    helper.get(url)
    _set(helper, "qa-answer-text", "按月日均：当月每日余额之和除以天数。")
    helper.find_element(By.ID, "qa-answer").click()
    _wait(helper).until(EC.text_to_be_present_in_element((By.ID, "qa-detail"), "按月日均"))

    asker.get(url)
    _by_dict_id(asker, action="vote", type="qa-act").click()
    _wait(asker).until(
        EC.presence_of_element_located((By.XPATH, '//*[contains(@id, \'"action":"unvote"\')]'))
    )
    _by_dict_id(asker, action="best", type="qa-act").click()
    _wait(asker).until(EC.presence_of_element_located((By.CLASS_NAME, "qa-best")))
    assert "已解决" in asker.find_element(By.ID, "qa-detail").text
