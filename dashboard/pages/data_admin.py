"""数据管理 (administrators only): upload boundaries, enterprise lists, hazards, inspections and
the staff roster through the loader command, follow the load, read its outcome and the history.

viewer check → the session's job from the registry → draw. Loads run as background processes
(loaders/jobs.py), so a large file never holds up other users' sessions.
"""

from __future__ import annotations

import streamlit as st

from config import get_settings
from dashboard.components import data
from dashboard.components.admin_accounts import accounts_section
from dashboard.components.admin_kiosk import kiosk_links_section
from dashboard.components.load_jobs import job_registry
from dashboard.components.load_panel import KIND_NAMES_ZH, history_table, job_outcome, job_progress, upload_form
from dashboard.components.session import current_viewer
from dashboard.components.ui import page_setup
from db.audit import recent_events
from db.queries import recent_loads
from db.scope import scoped_connection
from loaders.jobs import KINDS

JOB_KEY = "adm_job"  # the id of the load this session started last
HISTORY_ROWS = 20

page_setup("数据管理")
viewer = current_viewer()
if viewer.role != "admin":  # Home.py lists this page for administrators only; a stray URL lands here
    st.error("只有管理员可以打开数据管理页面。")
    st.stop()

settings = get_settings()
st.title("数据管理")
load_tab, accounts_tab, kiosk_tab = st.tabs(["数据载入", "账号管理", "大屏链接"])

with load_tab:
    can_load = bool(settings.database_admin_url)
    if not can_load:
        st.error(
            "未配置数据库所有者账号（DATABASE_ADMIN_URL），页面无法载入数据。请在运行仪表盘的环境中设置 "
            "DATABASE_ADMIN_URL（见 README“Pointing it at your own database”），或在服务器上用 "
            "`python -m loaders` 命令载入。"
        )
    registry = job_registry()
    job = registry.get(st.session_state.get(JOB_KEY))
    others = [j for j in registry.running() if job is None or j.id != job.id]
    if others:
        st.info("其他正在进行的载入：" + "；".join(f"{j.actor} 载入 {j.file_name}" for j in others))
    kind = st.segmented_control(
        "数据类型", KINDS, format_func=KIND_NAMES_ZH.get, default="enterprises", key="adm_kind", required=True
    )
    running = job is not None and job.state().running
    submission = upload_form(kind, disabled=running or not can_load, today=settings.today())
    if submission is not None:
        job = registry.start(
            submission.request,
            submission.files,
            main=submission.main,
            actor=viewer.name,
            audit_engine=data.app_engine(),
        )
        st.session_state[JOB_KEY] = job.id
        st.rerun()  # draw the form disabled while the load runs: one load at a time per session
    if job is not None:
        if job.state().running:
            job_progress(job.id)
        else:
            job_outcome(job)

    st.subheader("载入记录")
    with scoped_connection(data.app_engine(), viewer.scope) as conn:
        loads = recent_loads(conn, viewer.scope, limit=HISTORY_ROWS)
        uploads = recent_events(conn, action="data_upload_finished", limit=HISTORY_ROWS * 5)
    st.dataframe(history_table(loads, uploads), hide_index=True, width="stretch")

with accounts_tab:
    accounts_section(viewer)

with kiosk_tab:
    kiosk_links_section(viewer)
