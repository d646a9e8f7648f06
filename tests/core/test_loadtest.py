"""The load tester's pure pieces (tools/loadtest.py); the run itself is exercised against a
real proxy and two workers in tests/e2e/test_proxy.py."""

from __future__ import annotations

import pytest

from tools import loadtest as lt


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8501", True),
        ("http://127.4.5.6:80/app", True),
        ("http://localhost:8501", True),
        ("http://[::1]:8501", True),
        ("http://0.0.0.0:8501", False),
        ("http://10.0.0.7:8501", False),
        ("https://example.com", False),
        ("http://localhost.example.com:8501", False),
        ("not a url", False),
    ],
)
def test_only_loopback_urls_are_accepted(url, ok):
    assert lt.is_loopback_url(url) is ok


def test_a_remote_url_is_refused_before_any_traffic():
    with pytest.raises(ValueError, match="loopback"):
        lt.load_test("http://192.0.2.1:8501", "cnn", 1, timeout_s=1)


def test_learner_count_is_bounded():
    with pytest.raises(ValueError, match="learners"):
        lt.load_test("http://127.0.0.1:9", "cnn", 0, timeout_s=1)


def test_distinct_learners_get_their_own_setting():
    queries = [lt.learner_query("cnn", i, distinct=True) for i in range(30)]
    assert queries[:3] == ["seed=0", "seed=1", "seed=2"]
    assert len(set(queries)) == 30
    assert lt.learner_query("rnn", 2, distinct=True) == "steps=170"  # 150 + 2 x 10
    assert lt.learner_query("gradient_descent", 5, distinct=True) == "steps=105"


def test_without_distinct_every_learner_opens_the_same_link():
    assert lt.learner_query("cnn", 7, distinct=False) == ""
    assert lt.learner_query("cnn", 7, distinct=False, base="?epochs=5") == "epochs=5"


def test_distinct_setting_replaces_the_same_key_in_the_base_query():
    q = lt.learner_query("cnn", 3, distinct=True, base="epochs=5&seed=42")
    assert q == "epochs=5&seed=3"
    assert lt.learner_query("home", 4, True, key="x") == "x=4"


def test_distinct_on_a_page_without_a_table_entry_asks_for_a_key():
    with pytest.raises(ValueError, match="--distinct-key"):
        lt.learner_query("home", 0, distinct=True)


@pytest.mark.parametrize("page", sorted(lt.DISTINCT))
def test_the_warm_up_setting_is_none_a_class_of_30_asks_for(page):
    key = lt.WARM[page].split("=")[0]
    assert key == lt.DISTINCT[page][0]
    asked = {lt.learner_query(page, i, distinct=True) for i in range(30)}
    assert lt.WARM[page] not in asked


def test_page_paths_and_stream_urls():
    assert lt.page_path("home") == "" and lt.page_path("cnn") == "cnn"
    assert lt.stream_url("http://127.0.0.1:8501") == "ws://127.0.0.1:8501/_stcore/stream"
    assert lt.stream_url("http://127.0.0.1:80/lab/") == "ws://127.0.0.1:80/lab/_stcore/stream"
    assert lt.stream_url("https://localhost") == "wss://localhost/_stcore/stream"


def test_cookie_header_keeps_name_value_pairs_and_the_latest_value():
    header = lt.cookie_header(
        [
            "_streamlit_xsrf=2|ab|cd; Path=/; SameSite=Lax",
            "stroute=1d35; Path=/; HttpOnly; SameSite=Lax",
            "stroute=9f00; Path=/",
            "junk-without-value",
        ]
    )
    assert header == "_streamlit_xsrf=2|ab|cd; stroute=9f00"
    assert lt.cookie_header([]) == ""


def test_parse_ports():
    assert lt.parse_ports("8082,8081") == [8081, 8082]
    assert lt.parse_ports("8081-8083, 8090") == [8081, 8082, 8083, 8090]
    for bad in ("", "0", "70000", "9-3", "x", "1-5000"):
        with pytest.raises(ValueError):
            lt.parse_ports(bad)


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2135 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0
   1: 0100007F:2136 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0
   2: 0100007F:2135 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0
"""


def test_listening_inodes_reads_only_listening_sockets_on_the_ports():
    # 0x2135 = 8501, 0x2136 = 8502; the third line is an established connection to 8501.
    assert lt.listening_inodes(PROC_NET_TCP, {8501}) == {"111"}
    assert lt.listening_inodes(PROC_NET_TCP, {8501, 8502}) == {"111", "222"}
    assert lt.listening_inodes(PROC_NET_TCP, {9999}) == set()


def test_summarize():
    assert lt.summarize([3.0, 1.0, 2.0, 10.0]) == {
        "fastest_s": 1.0,
        "median_s": 2.5,
        "slowest_s": 10.0,
    }
    assert lt.summarize([]) == {"fastest_s": None, "median_s": None, "slowest_s": None}


def test_the_rerun_message_names_the_page_and_its_query_string():
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.ParseFromString(lt._rerun_backmsg("cnn", "seed=3", "http://127.0.0.1:8501/cnn?seed=3"))
    assert msg.WhichOneof("type") == "rerun_script"
    cs = msg.rerun_script
    assert (cs.page_name, cs.query_string, cs.page_script_hash) == ("cnn", "seed=3", "")
    assert cs.context_info.url == "http://127.0.0.1:8501/cnn?seed=3"
    assert not cs.widget_states.widgets  # a page being opened: no widget state yet
    home = BackMsg()
    home.ParseFromString(lt._rerun_backmsg("home", "", "http://127.0.0.1:8501/"))
    assert home.rerun_script.page_name == ""


def test_cpu_seconds_from_proc_stat_even_with_spaces_in_the_name():
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    line = "4242 (python3 -m x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0"
    assert lt.stat_cpu_s(line, 100) == pytest.approx(3.0)


def test_warming_refuses_a_remote_url_and_covers_every_page_by_default():
    from tools import warm
    from ui.nav import PAGES

    with pytest.raises(ValueError, match="loopback"):
        warm.warm("http://example.com:8501", ["home"])
    assert warm.main(["--url", "http://10.0.0.1:8501", "--pages", "home"]) == 2
    assert (
        tuple(p.url_path for p in PAGES) == warm.DEFAULT_PAGES
        and "autoencoder" in warm.DEFAULT_PAGES
    )


def test_warming_a_server_that_is_not_there_fails_with_a_status_not_a_crash():
    from tools import warm

    (lr,) = warm.warm("http://127.0.0.1:9", ["home"], timeout_s=5)  # port 9: nothing listens
    assert lr.status == "error" and lr.error
    assert warm.main(["--url", "http://127.0.0.1:9", "--pages", "home", "--timeout", "5"]) == 1
