from dashboard.serve import command, config_flags


def test_launcher_applies_the_project_streamlit_config():
    flags = config_flags()
    assert "--browser.gatherUsageStats=false" in flags  # no request to the internet
    assert "--browser.serverAddress=localhost" in flags  # no external-IP lookup on start
    assert "--server.enableStaticServing=true" in flags  # vendored Leaflet
    assert "--server.headless=true" in flags


def test_extra_arguments_come_last_and_win():
    cmd = command(["--server.port=8600"])
    assert cmd[-1] == "--server.port=8600"
    assert cmd.index("--server.port=8501") < cmd.index("--server.port=8600")
