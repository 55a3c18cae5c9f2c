"""`scsim app`: a live lever dashboard in the browser (Solara, served on this machine).

`levers` maps sliders and switches to scenario key paths, `runs` runs replications of the
scenario and the no-plan baseline with common random numbers, `charts` draws them, `page`
is the Solara UI and `server` starts it offline. Only `page` and `server` import Solara.
"""
