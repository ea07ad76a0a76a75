"""Which shard a guild is on, and which shards a process holds."""

import pytest

from bot.config import ConfigError, settings_from_dict
from bot.shards import SHARD_SHIFT, ShardGroup, shard_of
from cogs.launcher import process_name, shard_group


def test_a_guild_is_on_the_shard_discord_sends_its_events_to():
    # Discord's own example: (guild_id >> 22) % num_shards.
    assert shard_of(41771983423143937, 3) == (41771983423143937 >> 22) % 3
    assert shard_of((7 << SHARD_SHIFT) + 99, 4) == 3
    assert shard_of(None, 4) == 0  # DMs arrive on shard 0
    with pytest.raises(ValueError):
        shard_of(1, 0)


def test_a_group_holds_its_guilds_and_names_itself():
    group = ShardGroup.of(4, [3, 1])
    assert group.ids == (1, 3) and group.name == "shards 1,3 of 4"
    assert group.holds(1 << SHARD_SHIFT) and not group.holds(2 << SHARD_SHIFT)
    assert not group.holds(None) and ShardGroup.of(4, [0]).holds(None)
    assert not group.is_everything and ShardGroup.of(2, [0, 1]).is_everything
    for count, ids in ((2, []), (2, [2]), (2, [1, 1]), (0, [0])):
        with pytest.raises(ValueError):
            ShardGroup.of(count, ids)


def test_the_config_decides_the_group_and_the_process_name():
    split = settings_from_dict({"discord": {"shard_count": 4, "shard_ids": [2, 3]}}).discord
    assert shard_group(split) == ShardGroup(4, (2, 3))
    assert process_name(split).endswith(" shards 2,3 of 4")
    whole = settings_from_dict({"discord": {"shard_count": 4}}).discord
    assert shard_group(whole) is None and process_name(whole).endswith(" all shards")
    for bad in ({"shard_ids": [0]}, {"shard_count": 2, "shard_ids": [5]}):
        with pytest.raises(ConfigError, match="shard"):
            settings_from_dict({"discord": bad})
