"""The technician's screens behind the technician PIN: devices, tests, diagnostics, enrolment,
and the switch between sales and the stamp rally booth.

``TechnicianScreen`` (``ui.technician.screen``) is one page of the terminal window's stack with
a stack of its own. The work behind it lives outside Qt: ``drivers.devices`` finds devices,
``terminal.diagnostics`` collects the checks and ``terminal.support_bundle`` writes the zip.
"""
