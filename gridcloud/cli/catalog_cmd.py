"""``gridcloud catalog``: what the price catalog knows, and how old it is."""

from __future__ import annotations

from typing import Annotated

import typer

from gridcloud.cli.plan_cmd import JsonOpt


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=False)
    app.add_typer(group, name="catalog")

    @group.command("refresh")
    def refresh(
        project: Annotated[
            str,
            typer.Option(
                "--project", "-p", help="A project of yours the Compute API lists types in."
            ),
        ],
        regions: Annotated[
            list[str] | None,
            typer.Option("--region", "-r", help="Regions to price (repeat); default: all."),
        ] = None,
    ) -> None:
        """Build a new catalog from Google's APIs (Cloud Billing Catalog, Compute Engine)
        with your Application Default Credentials; later commands use it."""
        _refresh(project, regions)

    @group.callback(invoke_without_command=True)
    def catalog(
        ctx: typer.Context,
        region: Annotated[
            str, typer.Option("--region", "-r", help="Region whose prices to list.")
        ] = "us-central1",
        json: JsonOpt = False,
    ) -> None:
        """Show the catalog: its sources and age, and the listed prices of a region."""
        if ctx.invoked_subcommand is not None:
            return
        from gridcloud.catalog import load_catalog
        from gridcloud.catalog.model import STALE_AFTER_DAYS
        from gridcloud.errors import InputError

        cat = load_catalog()
        known = sorted({*cat.regions, *cat.price_tables})
        if region not in known:
            from gridcloud.profile.loader import suggest

            close = suggest(region, known)
            raise InputError(
                f"unknown region '{region}'",
                hint=f"did you mean {close[0]}?" if close else "see `gridcloud catalog --json`",
            )
        prices = cat.prices(region)
        age = cat.age_days()
        rows = []
        if prices is not None:
            for name, (ondemand, spot, basis) in sorted(prices.machines.items()):
                machine = cat.machine_types.get(name)
                one_year, three_years = prices.commitments.get(name, (None, None))
                rows.append(
                    {
                        "machineType": name,
                        "vcpus": machine.vcpus if machine else None,
                        "memoryGb": str(machine.memory_gb) if machine else None,
                        "arch": machine.arch if machine else None,
                        "ondemandHourly": None if ondemand is None else str(ondemand),
                        "spotHourly": None if spot is None else str(spot),
                        "oneYearCommitmentHourly": None if one_year is None else str(one_year),
                        "threeYearCommitmentHourly": (
                            None if three_years is None else str(three_years)
                        ),
                        "basis": basis,
                    }
                )
        if json:
            from gridcloud.cli.output import emit_json

            emit_json(
                {
                    "location": str(cat.location),
                    "captured": cat.captured.isoformat(),
                    "ageDays": age,
                    "currency": cat.currency,
                    "hoursPerMonth": cat.hours_per_month,
                    "machineTypes": len(cat.machine_types),
                    "accelerators": len(cat.accelerators),
                    "regions": len(cat.regions),
                    "regionsWithPrices": sorted(cat.price_tables),
                    "sources": list(cat.sources),
                    "region": region,
                    "prices": rows,
                }
            )
            return
        from rich.table import Table

        from gridcloud.cli.output import err, out, styled

        out.print(
            styled(("catalog", "bold"), f" {cat.location}"),
            f"captured {cat.captured.isoformat()} ({age} days ago); {len(cat.machine_types)} "
            f"machine types, {len(cat.accelerators)} accelerators, {len(cat.regions)} regions; "
            f"prices for {', '.join(sorted(cat.price_tables)) or 'no region'}",
        )
        for source in cat.sources:
            out.print(
                styled(
                    (f"  {source.get('what')}: {source.get('from')} ({source.get('date')})", "dim")
                )
            )
        if age > STALE_AFTER_DAYS:
            err.print(
                styled(("warning:", "yellow")),
                f"the prices are {age} days old; spot prices move weekly. "
                "Refresh them (`gridcloud catalog refresh --project P`) before trusting a "
                "budget verdict.",
            )
        if prices is None:
            err.print(
                styled(("warning:", "yellow")),
                f"no prices for {region}: every figure of an estimate there is unknown "
                f"(`gridcloud catalog refresh --project P --region {region}`)",
            )
            return
        table = Table(title=f"Listed prices, {region} (USD per hour)", title_justify="left")
        numbers = ("vCPUs", "memory GB", "on-demand", "spot", "1-year", "3-year")
        for column in ("machine type", "vCPUs", "memory GB", "arch", *numbers[2:], "basis"):
            table.add_column(column, justify="right" if column in numbers else "left")
        for row in rows:
            table.add_row(
                str(row["machineType"]),
                str(row["vcpus"] or ""),
                str(row["memoryGb"] or ""),
                str(row["arch"] or ""),
                str(row["ondemandHourly"] or "none"),
                str(row["spotHourly"] or "none"),
                str(row["oneYearCommitmentHourly"] or "none"),
                str(row["threeYearCommitmentHourly"] or "none"),
                str(row["basis"]),
            )
        table.caption = (
            "types not listed are priced from their family's rates (docs/cost.md); 1-year and "
            "3-year: the hourly price under a commitment"
        )
        out.print(table)


def _refresh(project: str, regions: list[str] | None) -> None:
    import datetime as dt

    from gridcloud.catalog.refresh import refresh as run_refresh
    from gridcloud.cli.output import err, out

    err.print("fetching the Compute Engine SKUs and machine types ...")
    # a failed call to Google is raised as a GridcloudError (gridcloud.google_errors)
    written = run_refresh(project, regions, today=dt.date.today())
    from gridcloud.catalog.model import read_catalog

    fresh = read_catalog(written)
    out.print(
        f"catalog written to {written}: {len(fresh.machine_types)} machine types, prices "
        f"for {len(fresh.price_tables)} regions; gridcloud uses it from now on"
    )
