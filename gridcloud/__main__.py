from __future__ import annotations

from gridcloud.cli import main

main()
