"""dl-math-lab: the router. ``streamlit run app.py``"""

from __future__ import annotations

import streamlit as st
import torch

from ui import fast, params, takehome
from ui.nav import ROOT, available

st.set_page_config(page_title="dl-math-lab", page_icon=":material/functions:", layout="wide")
# One intra-op thread per session: learners' sessions are threads of this one process, and
# on 2 cores two-thread ops from several sessions at once thrash (measured: 3 sessions
# training CNN, RNN and VAE defaults at once took 42 s on 2 threads, 3.7 s on 1).
torch.set_num_threads(1)

# Less empty space above the title: at 1400 x 900 the lesson's first screen needs it. A
# style-only st.html takes no room on the page.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>")

sections: dict[str, list[st.Page]] = {}
for spec in available():
    page = st.Page(
        ROOT / spec.path,
        title=spec.title,
        icon=spec.icon,
        url_path=spec.url_path,
        default=spec.url_path == "home",
    )
    sections.setdefault(spec.section, []).append(page)

nav = st.navigation(sections)

params.begin_run(nav.url_path)
nav.run()
takehome.section(nav.url_path)  # under every topic page: its experiment as a PyTorch script
fast.freeze_startup_objects()

if report := params.link_report():
    with st.sidebar.expander(
        f"This link's settings: {len(report)} adjusted", icon=":material/link:"
    ):
        st.caption("Values in the URL are never run as code: out-of-range numbers are clamped to the nearest allowed value, unknown ones ignored.")  # fmt: skip
        import pandas as pd  # only for a link that needed adjusting: not on every cold start

        st.dataframe(
            pd.DataFrame(report, columns=["setting", "in the link", "used"]), hide_index=True
        )
