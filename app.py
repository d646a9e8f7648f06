"""dl-math-lab: the router. ``streamlit run app.py``"""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from dl_core import device
from ui import params
from ui.nav import ROOT, available

st.set_page_config(page_title="dl-math-lab", page_icon=":material/functions:", layout="wide")
torch.set_num_threads(min(torch.get_num_threads(), 2))  # tiny models: leave a core for the server

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

info = device.info()
with st.sidebar:
    st.caption(
        f"**Device:** {info.label}  \n**PyTorch** {info.torch_version} · **Streamlit** {st.__version__}"
    )

params.begin_run(nav.url_path)
nav.run()

if report := params.link_report():
    with st.sidebar.expander(
        f"This link's settings: {len(report)} adjusted", icon=":material/link:"
    ):
        st.caption("Values in the URL are never run as code: out-of-range numbers are clamped to the nearest allowed value, unknown ones ignored.")  # fmt: skip
        st.dataframe(
            pd.DataFrame(report, columns=["setting", "in the link", "used"]), hide_index=True
        )
