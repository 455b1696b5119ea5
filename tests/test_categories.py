"""Section categories from heading and text cues (indexer.ingest.categories)."""

from __future__ import annotations

import pytest

from indexer.ingest.categories import classify, text_cue
from indexer.models import OTHER, PLANS, PRINCIPAL_DUTY, PROBLEMS, RESULTS


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("一、履职情况", RESULTS),
        ("1、 上一年度推进法治政府建设的主要举措和成效", RESULTS),
        ("一、2023年工作情况", RESULTS),
        ("二、存在的问题", PROBLEMS),
        ("三、2023年度推进法治政府建设存在的不足和原因", PROBLEMS),
        ("下一步计划", PLANS),
        ("四、下步工作打算", PLANS),
        ("二、2024年工作思路目标举措", PLANS),
        ("四、下一年度推进法治政府建设的主要安排", PLANS),
        (
            "三、上一年度党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况",
            PRINCIPAL_DUTY,
        ),
        # Traditional script classifies like Simplified.
        ("二、存在的問題", PROBLEMS),
        ("四、下一步工作計劃", PLANS),
        ("三、黨政主要負責人履行推進法治建設第一責任人職責情況", PRINCIPAL_DUTY),
        ("一、主要舉措和成效", RESULTS),
    ],
)
def test_top_level_heading_cues(heading: str, expected: str) -> None:
    assert classify(heading, "", None) == expected


def test_uncued_heading_takes_the_default() -> None:
    assert classify("一、加强组织领导，落实主体责任", "成立领导小组。", None) == OTHER
    assert classify("一、加强组织领导，落实主体责任", "成立领导小组。", None, default=RESULTS) == RESULTS


def test_children_inherit_unless_their_heading_has_a_strong_cue() -> None:
    assert classify("（一）制定年度学法计划", "", RESULTS) == RESULTS
    assert classify("一是思想理论学习还不深入", "", PROBLEMS) == PROBLEMS
    assert classify("（三）存在的问题", "", RESULTS) == PROBLEMS
    assert classify("（二）下一步打算", "", RESULTS) == PLANS
    assert classify("（二）党政主要负责人履行推进法治建设第一责任人职责", "", RESULTS) == PRINCIPAL_DUTY


def test_weak_cues_only_count_without_a_parent_category() -> None:
    assert classify("（一）制定年度学法计划", "", None) == PLANS
    assert classify("（一）制定年度学法计划", "", OTHER) == PLANS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("虽然我乡取得了一定的成效，但离上级的要求仍存在一些差距：一是…", PROBLEMS),
        ("雖然我鄉在法治建設工作上取得了一定的成效績,但離上級的要求仍存在一些差距:", PROBLEMS),
        ("今后，我们将坚持以习近平法治思想为指导。", PLANS),
        ("今後,我們將堅持以習近平法治思想為指導。", PLANS),
        ("针对以上存在的问题，下一步，土门关乡将深入学习。", PLANS),
        ("2024年，我乡将继续深入推进法治建设。", PLANS),
        ("2023年，我乡坚持依法行政，取得新成效。", None),
        ("成立领导小组。工作中存在问题及时解决。", None),
    ],
)
def test_text_cues(text: str, expected: str | None) -> None:
    assert text_cue(text) == expected


def test_unheaded_passages() -> None:
    assert classify("", "今后，我们将加强学习。", RESULTS) == PLANS
    assert classify("", "开展普法活动十次。", RESULTS) == RESULTS
    assert classify("", "开展普法活动十次。", None) == OTHER
