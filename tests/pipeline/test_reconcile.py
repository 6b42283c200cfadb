"""Reconcile on publication, decided as a pure function: the published card against the PI-time card's payload.

Cards are the sample alerts (tests/fakes/alert_samples.py) changed the way a publication changes a rule: an entity
dropped, one added, aliases revised, a security no longer hit, another now hit. Expected changes are written from
those edits, not from the code under test.
"""

from __future__ import annotations

from monitor.models import ActionKind, Relation
from monitor.outbox import DetectedAlert, EntityLine, ReconcileAlert
from monitor.pipeline.reconcile import needs_reconcile, reconcile
from tests.fakes.alert_samples import detected


def pi_card() -> DetectedAlert:
    return detected(7, n_entities=10, n_securities=6, based_on="public_inspection")


def test_the_same_rule_published_confirms_the_filing() -> None:
    published = pi_card().model_copy(update={"based_on": "published"})
    earlier = [pi_card().model_dump(mode="json")]
    assert needs_reconcile(published, earlier)
    reply = reconcile(published, earlier)
    assert isinstance(reply, ReconcileAlert)
    assert reply.confirmed
    assert reply.dedup_key == "event:7:g:all:reconciled"
    assert reply.card == published


def test_entities_and_securities_added_removed_and_revised_are_named() -> None:
    before = pi_card()
    dropped, kept_entity, *rest = before.entities
    revised_entity = kept_entity.model_copy(update={"aliases": ("New Alias Co.",), "action": ActionKind.REVISE})
    added_entity = EntityLine(name="Brand New Bureau", country="China")
    gone, relinked, *others = before.securities
    relinked_after = relinked.model_copy(update={"relation": Relation.SUBSIDIARY, "confirmed": False})
    added_security = others[0].model_copy(update={"symbol": "688981.SS", "issuer": "New Listing Co."})
    published = before.model_copy(
        update={
            "based_on": "published",
            "entities": (revised_entity, *rest, added_entity),
            "securities": (relinked_after, *others, added_security),
        }
    )
    reply = reconcile(published, [before.model_dump(mode="json")])
    assert not reply.confirmed
    assert [e.name for e in reply.entities_added] == ["Brand New Bureau"]
    assert [e.name for e in reply.entities_removed] == [dropped.name]
    assert [(c.name, c.after.aliases) for c in reply.entities_revised] == [(kept_entity.name, ("New Alias Co.",))]
    assert [s.symbol for s in reply.securities_added] == ["688981.SS"]
    assert [s.symbol for s in reply.securities_removed] == [gone.symbol]
    assert [(c.symbol, c.after.relation) for c in reply.securities_revised] == [(relinked.symbol, Relation.SUBSIDIARY)]


def test_case_and_spacing_do_not_make_a_new_entity() -> None:
    before = pi_card()
    first = before.entities[0]
    respelled = first.model_copy(update={"name": "  " + first.name.upper().replace(" ", "  ") + "."})
    published = before.model_copy(update={"based_on": "published", "entities": (respelled, *before.entities[1:])})
    assert reconcile(published, [before.model_dump(mode="json")]).confirmed


def test_only_a_pi_time_card_followed_by_the_published_rule_is_reconciled() -> None:
    published = pi_card().model_copy(update={"based_on": "published"})
    from_publication = [published.model_dump(mode="json")]  # first seen published: nothing to reconcile
    legacy = [pi_card().model_copy(update={"based_on": None}).model_dump(mode="json")]  # stored before based_on
    assert not needs_reconcile(published, from_publication)
    assert not needs_reconcile(published, legacy)
    assert not needs_reconcile(pi_card(), [pi_card().model_dump(mode="json")])  # a PI re-read is not publication
    failed = published.model_copy(update={"parse_status": "failed", "entities": ()})
    assert not needs_reconcile(failed, [pi_card().model_dump(mode="json")])  # no published facts to compare


def test_a_country_spelled_as_the_table_spells_it_and_aliases_the_pi_sentence_lacked_are_no_revision() -> None:
    before = pi_card()  # countries "China", no aliases: as the PI prose sentence names them
    published = before.model_copy(
        update={
            "based_on": "published",
            "entities": tuple(
                e.model_copy(update={"country": "CHINA, PEOPLE'S REPUBLIC OF", "aliases": ("Alias",)})
                for e in before.entities
            ),
        }
    )
    assert reconcile(published, [before.model_dump(mode="json")]).confirmed
