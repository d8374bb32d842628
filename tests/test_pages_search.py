"""Search that finds (issue 14): every text a page shows, in both languages, folded umlauts,
one typo in longer words, ranked and paged; the same from the index ``build`` writes and from
the one a server builds from its store."""

from __future__ import annotations

import time

import pytest
import requests

from kommunen_kg.web.resource_index import INDEX_FILE, load_index, open_index, usable

from .test_pages_site import page, texts

LISTING = "//ol[@class='listing']/li/a"


def found(live_server: str, query: str, **params: str) -> list[str]:
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return texts(page(live_server, f"search?q={query}{extra}"), LISTING)


def test_a_family_name_finds_the_person_first_and_then_the_talks_they_gave(live_server):
    names = found(live_server, "dehne", lang="de")
    assert names[0] == "Peter Dehne"
    assert len(names) > 1  # the talk he gave shows his name on its page


def test_a_region_named_only_in_a_project_s_description_or_area_finds_the_project(live_server):
    assert found(live_server, "Nordhessen", lang="de") == ["lebensWert"]


@pytest.mark.parametrize("spelling", ["Mobilität", "Mobilitat", "Mobilitaet", "Mobilitet"])
def test_umlauts_their_ae_spelling_and_one_typo_find_the_same_theme(live_server, spelling):
    assert found(live_server, spelling, lang="de")[0] == "Mobilität"


def test_a_short_word_with_a_typo_finds_nothing(live_server):
    assert found(live_server, "Dehme", lang="de")  # five letters: one edit is tolerated
    assert found(live_server, "Ehmt", lang="de") == []  # four letters: not


def test_a_description_in_english_is_searched_on_the_english_page(live_server):
    assert found(live_server, "organisation+model+Eschwege", lang="en") == ["lebensWert"]


def test_results_beyond_one_page_are_paged_and_counted_not_cut(live_server):
    first = page(live_server, "search?q=e&lang=en")
    heading = texts(first, "//h2")[0]
    total = int(heading.rsplit("(", 1)[1].rstrip(")").replace(",", ""))
    assert total > 20
    seen: list[str] = []
    number = 1
    while len(seen) < total and number <= 20:  # bounded: at most 20 pages
        doc = page(live_server, f"search?q=e&lang=en&page={number}")
        seen += [a.get("href") for a in doc.xpath(LISTING)]
        number += 1
    assert len(seen) == total
    assert len(set(seen)) == total  # no entry on two pages
    page(live_server, f"search?q=e&lang=en&page={number + 5}", status=404)
    page(live_server, "search?q=e&page=null", status=400)


def test_the_next_page_is_linked_and_keeps_the_words(live_server):
    doc = page(live_server, "search?q=e&lang=en")
    next_links = doc.xpath("//nav[@class='pagination']//a[@rel='next']/@href")
    assert next_links and "q=e" in next_links[0] and "page=2" in next_links[0]


@pytest.mark.parametrize(
    "query", ['"', "*", "NEAR(a b)", "a AND", "-x", "^y", "{names}:z", "a:b", "OR", "'", "(("]
)
def test_search_syntax_in_the_words_is_read_as_words_never_an_error(live_server, query):
    response = requests.get(live_server + "search", params={"q": query}, timeout=10)
    assert response.status_code == 200


def test_the_longest_allowed_query_of_long_words_answers_quickly(live_server):
    query = " ".join(["abcdefghij"] * 2 + [f"wort{n:05d}x" for n in range(16)])[:200]
    started = time.monotonic()
    response = requests.get(live_server + "search", params={"q": query}, timeout=10)
    assert response.status_code == 200
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("de", "Ein Suchtext hat höchstens 200 Zeichen (dieser hat 201)."),
        ("en", "A search text has at most 200 characters (this one has 201)."),
    ],
)
def test_a_search_text_too_long_is_refused_in_the_reader_s_language(live_server, lang, says):
    doc = page(live_server, f"search?q={'a' * 201}&lang={lang}", status=400)
    assert says in texts(doc, "//main//p")


def test_the_build_writes_the_index_beside_the_dumps_not_into_the_manifest(release):
    assert usable(release.path / INDEX_FILE)
    assert INDEX_FILE not in {f["name"] for f in release.files}


def test_the_index_a_server_builds_from_its_store_equals_the_one_the_build_wrote(
    publication, release
):
    built = open_index(release.path / INDEX_FILE)
    pub = publication
    made = load_index(pub.trusted, pub.config.base_iri, pub.iris.vocab)
    try:
        assert made.kinds() == built.kinds()
        for lang in ("de", "en"):
            for kind in built.kinds():
                assert [e.iri for e in made.of_kind(kind, lang)] == [
                    e.iri for e in built.of_kind(kind, lang)
                ]
            for words in ("dehne", "Nordhessen", "Mobilitet", "e", "volunteer mobility"):
                assert made.find(words, 50) == built.find(words, 50)
    finally:
        del made


def test_a_file_of_another_format_is_not_used(tmp_path):
    (tmp_path / INDEX_FILE).write_bytes(b"not sqlite")
    assert not usable(tmp_path / INDEX_FILE)
    assert not usable(tmp_path / "missing.sqlite")


def test_a_temporary_index_outlives_one_switch_and_is_removed_at_the_next(publication):
    pub = publication

    def made():
        return load_index(pub.trusted, pub.config.base_iri, pub.iris.vocab)

    first = made()
    first_path = first.path
    del first  # the release it served was replaced: its workers may still read it
    assert first_path.exists()
    second = made()
    second_path = second.path
    del second  # the next switch: the first one's workers are long gone
    assert not first_path.exists()
    assert second_path.exists()
