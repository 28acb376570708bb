"""Settings of the web process (command centre API, intake, websocket hub)."""

from __future__ import annotations

from dispatch.settings import AuthSettings, CommandKeySettings


class WebSettings(AuthSettings, CommandKeySettings):
    """GRID_* variables read once when the web app starts."""

    max_body_bytes: int = 64 * 1024
    max_plan_bytes: int = 4 * 1024 * 1024
    max_grid_file_bytes: int = 32 * 1024 * 1024
    """Largest grid file an administrator may upload (a county's grids as GeoJSON or a zipped shapefile)."""
    ws_queue_size: int = 1000
    ws_per_account: int = 5
    """Live websockets per account and web process; one more is refused (close code 4429)."""
    snapshot_limit: int = 2000
    db_pool_size: int = 10
    rate_public_per_address: str = "60/minute"
    """How often one address may read the public disclosure feed (行政执法公示)."""
    command_waiters: int = 10_000
    """Most command requests a web process holds waiting for their change at once; more answer without waiting."""
    export_max_rows: int = 100_000
    """Most rows one case export writes; past it the file ends with a row saying it was cut."""
    public_url: str | None = None
    """The command centre's address printed in the papers' QR codes (default: the address the request came to)."""
    basemap_url: str = ""
    """An XYZ raster tile URL template drawn under the grids ({z}/{x}/{y}; {s} for a subdomain, {tk} for the key)."""
    basemap_overlay_url: str = ""
    """A second XYZ template drawn over the first (a tile service's annotation layer), same placeholders."""
    basemap_subdomains: str = ""
    """Comma-separated values of {s} (the tiles are spread over them)."""
    basemap_name: str = ""
    """The tile service's name in the layer switch (default: 天地图 with GRID_TIANDITU_KEY alone, else XYZ)."""
    basemap_attribution: str = ""
    """The tile service's attribution, shown on the map."""
    tianditu_key: str = ""
    """天地图's browser key: alone, it draws 天地图's map and annotation layers; with GRID_BASEMAP_URL, fills {tk}."""
    basemap_pmtiles: str = ""
    """A local PMTiles file of raster tiles (PNG, JPEG or WebP) served to signed-in pages with HTTP Range requests."""
    basemap_pmtiles_name: str = "本地底图"
    basemap_pmtiles_attribution: str = ""
    basemap_max_zoom: int = 18
    """The deepest zoom the tile sources have; the map stretches these tiles beyond it."""
