"""Documents the committee produces from the figures: the annual report (``annual``) as an
editable Word file, its charts as PNG (``charts``), and its conversion to PDF with LibreOffice
(``pdf``), which the tests and the committed page images use."""
