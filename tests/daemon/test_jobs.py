"""The daemon's housekeeping jobs include the take-down re-checks of issue 11."""

from __future__ import annotations


def test_the_daemon_rechecks_taken_down_posts_on_a_schedule(tmp_path):
    import scheduler
    from sentinel.config import Config
    from sentinel.pipeline import Pipeline
    from storage.db import Database

    cfg = Config.model_validate(
        {"database": f"sqlite:///{tmp_path / 'db.sqlite'}", "var_dir": str(tmp_path / "var")}
    )
    cfg.base_dir = tmp_path
    db = Database(cfg.database_url)
    try:
        pipeline = Pipeline(cfg, db)
        sched = scheduler.build_scheduler(pipeline, cfg)
        assert "takedown" in {j.id for j in sched.get_jobs()}
        assert pipeline.recheck_takedowns()["checked"] == 0  # nothing due on an empty database
    finally:
        db.dispose()
