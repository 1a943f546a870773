"""The answer's stages on literal inputs: question analysis, follow-ups, selection, short answers.

Unit tests here need no model: they build analyses, candidates and histories by hand.
"""

import dataclasses
from collections import Counter

import numpy as np
import pytest

from rag.answering.candidates import (
    FEATURES, Candidate, _sentence_spans, with_agents, is_heading, named_in_question, topic_unmentioned, unmentioned_names,
)
from rag.answering.compose import compose, short_answer
from rag.answering.model import ShortModel, load_model
from rag.answering.spans import (
    FILL_TOP,
    MAX_WORDS,
    SPAN_FEATURES,
    Reading,
    Span,
    asking_word,
    fill_gains,
    filled,
    ranked,
    spans,
)
from rag.answering.training import holds_answer
from rag.answering.followup import contrasted, rewrite
from rag.answering.question import PEOPLE, PLACES, WHO, analyze, as_role_question, mentions, surname
from rag.answering.select import Quote, Rules, select
from rag.entities import Entity, Gazetteer, RuleTagger, by_kind_word, nationality_adjective, written_as_name
from rag.types import Answer, Hit

GAZETTEER = Gazetteer(
    [
        ("Bashar Assad", "PERSON"), ("Assad", "PERSON"), ("HTS", "ORG"), ("Abu Mohammad al-Jolani", "PERSON"),
        ("Moscow", "GPE"), ("Iran", "GPE"), ("Russia", "GPE"), ("US", "GPE"), ("Jordan", "GPE"),
    ]
)
DAYS = frozenset({"2024-12-07", "2024-12-08", "2024-12-09"})


# -- question analysis ---------------------------------------------------------------


@pytest.mark.parametrize(
    "question, intent, expected",
    [
        ("who granted Assad asylum?", "fact", PEOPLE | {"GPE"}),  # a person, a group or a country
        ("Where is Assad now?", "fact", PLACES),
        ("How many Syrians fled?", "count", frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})),
        ("When did the embassy change its flag?", "when", frozenset({"DATE", "TIME"})),
        ("On which day did the embassy change its flag?", "when", frozenset({"DATE", "TIME"})),
        ("Which countries froze asylum decisions?", "list", frozenset({"GPE", "LOC"})),
        ("which group did he lead before?", "fact", frozenset({"ORG", "NORP"})),
        ("In which year was the group listed?", "fact", frozenset({"DATE", "TIME"})),
        # The kind is the noun after the question word's modifiers, not a possessive
        # and not a noun after the question's verb.
        ("which Scandinavian countries paused asylum decisions?", "list", frozenset({"GPE", "LOC"})),
        ("what rebel group took the city?", "fact", frozenset({"ORG", "NORP"})),
        ("which country's leader met the envoy?", "fact", frozenset({"PERSON"})),
        # A person by occupation, also after a name that is a place ("Tehran University").
        ("Which Tehran University professor predicted the split?", "fact", frozenset({"PERSON"})),
        ("which analyst said it?", "fact", frozenset({"PERSON"})),
        # What is asked follows a phrase or clause set before it, or a statement; a question
        # asked inside another is the inner one.
        ("After Assad fell, who took control of Damascus?", "fact", WHO),
        ("When the US listed him, which group was he leading?", "fact", frozenset({"ORG", "NORP"})),
        ("When did the war start, and who won?", "when", frozenset({"DATE", "TIME"})),
        ("did the spokesman say who made that call?", "fact", WHO),
        ("Can you tell me how many Syrians live in Turkey?", "count", frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})),
        ("Israel's foreign minister said so - what's his name?", "fact", frozenset({"PERSON"})),
        # A subject and its clause before the comma are no phrase set before the question.
        ("Assad, who ruled Syria for 24 years, fled to which city?", "fact", frozenset({"GPE", "LOC"})),
        ("Name the man who leads HTS, which is listed as a terrorist group?", "list", frozenset({"PERSON"})),
        ("On 8 December, what happened in Homs?", "day", frozenset()),
        # An occupation before another noun modifies it: no person is asked.
        ("which victim support groups got funding?", "fact", frozenset()),
        ("which pilot program was expanded?", "fact", frozenset()),
        ("which expert warns of war?", "fact", frozenset({"PERSON"})),
        ("what made the city's capture possible?", "fact", frozenset()),
        # "What is the <noun> of …" asks its value, for nouns of amounts and times alone.
        ("what's the bounty on him?", "fact", frozenset({"MONEY"})),
        ("What was the death toll?", "fact", frozenset({"CARDINAL"})),
        ("what is the population of the city?", "fact", frozenset({"CARDINAL"})),
        ("what is the state of the economy?", "fact", frozenset()),
        ("what is a fine?", "fact", frozenset()),  # a definition
        ("which group left the city?", "fact", frozenset({"ORG", "NORP"})),
        ("tell me about the airstrikes", "overview", frozenset()),
        ("Give me an overview of the refugee situation", "overview", frozenset()),
        ("what happened on December 7?", "day", frozenset()),
        ("what happened on Sunday?", "day", frozenset()),  # the one Sunday of the documents' days
        ("what went on on dec 8", "day", frozenset()),  # said another way
        ("what went on sale on dec 8?", "fact", frozenset()),  # but not before a noun
        ("what took place on December 7?", "day", frozenset()),
        ("what happened in Manbij?", "overview", frozenset()),  # an account of a place, not one fact
        ("what happened in Homs on 7 December?", "day", frozenset()),  # a day named: that day's news
        ("what happened to the Russian bases?", "overview", frozenset()),
        ("who is the Turkish foreign minister?", "fact", frozenset({"PERSON"})),  # a role held by a person
        ("golan buffer zone", "overview", frozenset()),  # search-box keywords: a topic
        ("the company was sold to", "fact", frozenset()),  # a question with a gap, not a topic
        ("buffer zone?", "fact", frozenset()),
        ("no", "fact", frozenset()),  # a reply, not a topic
        ("which army commander defected?", "fact", frozenset({"PERSON"})),  # a compound's head
        ("which militia groups fought?", "list", frozenset({"ORG", "NORP"})),
        ("which countries border Syria?", "list", frozenset({"GPE", "LOC"})),  # after a plural, the verb
        ("thanks", "fact", frozenset()),  # a reply, not a topic
        ("list the countries which froze asylum decisions", "list", frozenset({"GPE", "LOC"})),
        ("What are the curfew hours in Damascus?", "fact", frozenset()),
        ("What are the side effects of aspirin?", "fact", frozenset()),
        ("list the countries that froze asylum decisions", "list", frozenset({"GPE", "LOC"})),
        ("Name all the groups that joined the offensive", "list", frozenset({"ORG", "NORP"})),
    ],
)
def test_what_a_question_asks_for(question, intent, expected):
    analysis = analyze(question, GAZETTEER, DAYS)
    assert analysis.intent == intent
    assert analysis.expected == expected


def test_names_are_found_without_capitals_and_stop_words_are_not_names():
    analysis = analyze("who granted assad asylum and what did us officials say?", GAZETTEER)
    assert ("assad", "PERSON") in analysis.names
    assert all(name != "us" for name, _ in analysis.names)  # the pronoun, not the country
    assert ("US", "GPE") in analyze("What did the US say?", GAZETTEER).names


def test_an_unknown_capitalised_name_is_still_a_name():
    assert ("Saudi Arabia", "NAME") in analyze("What did Saudi Arabia say?", GAZETTEER).names


def test_days_in_questions_take_the_year_of_the_documents():
    assert analyze("what was reported on the 8th of December?", GAZETTEER, DAYS).dates == ("2024-12-08",)
    analysis = analyze("What happened in Damascus on December 9?", GAZETTEER, DAYS)
    assert analysis.dates == ("2024-12-09",)
    assert analysis.topic == "Damascus"


def test_names_are_known_whichever_apostrophe_the_question_types():
    gazetteer = Gazetteer([("Ba’ath Party", "ORG"), ("Ba’ath Party", "ORG")])
    assert analyze("what is the Ba'ath Party?", gazetteer).names == (("Ba'ath Party", "ORG"),)
    counted_before = Gazetteer.from_counts(Counter({("ba’ath party", "ORG"): 2}))  # an index keyed with ’
    assert analyze("what is the Ba'ath Party?", counted_before).names == (("Ba'ath Party", "ORG"),)


def test_follow_ups_are_recognised():
    assert analyze("where is he now?", GAZETTEER).follow_up
    assert analyze("and Iran?", GAZETTEER).follow_up
    assert not analyze("where is Assad now?", GAZETTEER).follow_up


@pytest.mark.parametrize(
    "name, text, found",
    [
        ("Syria", "displaced Syrians returned", True),
        ("Syrians", "the Syrian army", True),
        ("Austria", "Australia has frozen applications", False),
        ("Niger", "Nigeria said", False),
        ("Jordan", "the Jordanian border", True),
        ("Iran", "Iraq said", False),
        ("Türkiye", "Turkiye hosts refugees", True),
        ("Iran", "Iranians and Iranian-backed groups", True),  # a longer variant fails, a shorter one holds
        ("Sudan", "the Sudanese capital", True),
        ("Sudan", "Sudanesey", False),
        # Transliterated names: long words match with other vowels and single or doubled consonants.
        ("Mohammed al-Jalali", "Mohammad al-Jalali said", True),
        ("Jolani", "Abu Mohammed al-Julani", True),
        ("Hezbollah", "Hizbollah fighters", True),
        ("Bashar", "Mohammed al-Bashir", False),  # vowels outside their class name other people
        ("Hussein", "Hassan Nasrallah", False),
        ("Miller", "Robert Mueller", False),
        ("Forces", "farces", False),
        ("...", "any text at all", False),  # punctuation names nothing
        ("Mohammed al-Jalali", "Mohammed al-Jabali", False),  # a consonant differs
        ("Jolani", "Jolanis", True),
        ("Jolani", "Joland", False),  # the last letter holds
        ("Hassan", "Hashim", False),  # so do the consonants
        # Typed apostrophes and hyphens meet printed ones.
        ("Ba'ath Party", "a member of Assad’s Ba’ath Party", True),
        ("Tahrir-al-Sham", "Hayat Tahrir‑al‑Sham", True),
        ("Al-Jazeera", "Al Jazeera has reported", True),  # hyphen or space between the words
        ("Hayat Tahrir al-Sham", "Hayat Tahrir-al-Sham (HTS)", True),
        ("Al-Jazeera", "Al Jazira", True),
        ("Al-Jazeera", "Al Arabiya", False),
    ],
)
def test_name_variants_are_demonyms_and_plurals_not_lookalikes(name, text, found):
    assert mentions(text, name) is found


def hit(text, rank=1, chunk_id=None, date="2024-12-08", start=None):
    start = 1000 * rank if start is None else start  # passages of one document, apart
    return Hit(rank=rank, score=1.0 / rank, chunk_id=rank if chunk_id is None else chunk_id, source="a.txt",
               text=text, start=start, end=start + len(text), date=date)


def test_questions_naming_what_no_passage_mentions_are_refused():
    hits = [hit("Türkiye hosts 3 million displaced Syrians, officials in Ankara said.")]
    assert unmentioned_names(analyze("What did Jordan say?", GAZETTEER), hits) == ["Jordan"]
    assert unmentioned_names(analyze("What did Tehran announce?", GAZETTEER), hits) == ["Tehran"]
    assert unmentioned_names(analyze("How many Syrians live in Türkiye?", GAZETTEER), hits) == []
    # A region or nationality as an adjective before a noun of a kind narrows the question;
    # passages name its countries instead. Before a verb, it is a name that refuses.
    assert unmentioned_names(analyze("How have European countries handled asylum claims?", GAZETTEER), hits) == []
    assert unmentioned_names(analyze("What did Asian leaders say?", GAZETTEER), hits) == []
    assert unmentioned_names(analyze("What did Japan decide?", GAZETTEER), hits) == ["Japan"]
    # Names ending like an adjective of nationality ("-an") are still names.
    assert unmentioned_names(analyze("What did the Taliban government announce?", GAZETTEER), hits) == ["Taliban"]
    assert unmentioned_names(analyze("What did the Pakistan army say?", GAZETTEER), hits) == ["Pakistan"]


def test_a_known_name_written_in_lower_case_does_not_refuse_the_question():
    """"jordan" may be the river or a typed-fast name; only the capitalised spelling refuses."""
    hits = [hit("Türkiye hosts 3 million displaced Syrians, officials in Ankara said.")]
    lower = analyze("what did jordan say?", GAZETTEER)
    assert ("jordan", "GPE") in lower.names  # still a name for the features and follow-ups
    assert unmentioned_names(lower, hits) == []


# -- follow-ups -------------------------------------------------------------------------


def turn(question, short=None):
    return Answer(question=question, text="… [1]", found=True, short=short, question_used=question)


def test_the_group_or_the_man_points_back_to_a_name_of_that_kind():
    history = [turn("who leads HTS?", short="Abu Mohammad al-Jolani")]
    analysis = analyze("was the group listed as terrorist?", GAZETTEER)
    assert analysis.follow_up
    assert rewrite(analysis, history, GAZETTEER) == "was HTS listed as terrorist?"
    assert rewrite(analyze("where does the man live now?", GAZETTEER), history, GAZETTEER) == (
        "where does Abu Mohammad al-Jolani live now?"
    )
    # A noun a clause defines is a new one, and a date is no antecedent.
    assert rewrite(analyze("who was the man who shot the guard?", GAZETTEER), history, GAZETTEER) == (
        "who was the man who shot the guard?"
    )
    dated = [turn("when did Assad flee?", short="8 December 2024")]
    assert rewrite(analyze("was the group listed as terrorist?", GAZETTEER), dated, GAZETTEER) == (
        "was the group listed as terrorist?"
    )
    # A question that names something is about it: "the group" may be another.
    assert not analyze("did the group meet Russia?", GAZETTEER).follow_up
    assert rewrite(analyze("where does the man live now?", GAZETTEER), [turn("what happened?")], GAZETTEER) == (
        "where does the man live now?"  # nothing named before it
    )


def test_a_pronoun_is_replaced_by_the_last_turns_person():
    history = [turn("who leads HTS?", short="Abu Mohammad al-Jolani")]
    analysis = analyze("which group did he lead before?", GAZETTEER)
    assert rewrite(analysis, history, GAZETTEER) == "which group did Abu Mohammad al-Jolani lead before?"
    # Named once, the question refers back to the person as the user wrote it.
    again = analyze("where does he say he is now?", GAZETTEER)
    assert rewrite(again, history, GAZETTEER) == "where does Abu Mohammad al-Jolani say he is now?"
    # "him" after "he" is someone else: the next person of the conversation, or as written.
    gazetteer = Gazetteer([("Bashar Assad", "PERSON"), ("Vladimir Putin", "PERSON")])
    called = [turn("who did Vladimir Putin call?", short="Bashar Assad")]
    assert rewrite(analyze("did he thank him?", gazetteer), called, gazetteer) == "did Bashar Assad thank Vladimir Putin?"
    assert rewrite(analyze("did he thank him?", GAZETTEER), history, GAZETTEER) == "did Abu Mohammad al-Jolani thank him?"


def test_they_after_a_possessive_are_what_it_owns():
    history = [turn("what are the names of Russia's two military bases in Syria?")]
    analysis = analyze("what alert level have they been put on?", GAZETTEER)
    assert rewrite(analysis, history, GAZETTEER) == "what alert level have Russia's two military bases been put on?"
    their = analyze("who commands their troops?", GAZETTEER)
    assert rewrite(their, history, GAZETTEER) == "who commands Russia's two military bases’ troops?"
    # A possessive of one thing, or of a word ending in -s that is no plural, owns no "they".
    from rag.answering.followup import _owned_plurals

    assert _owned_plurals("what is Russia's position?") == [] and _owned_plurals("what is Assad's status?") == []
    assert _owned_plurals("who attacked Israel's northern towns?") == ["Israel's northern towns"]
    assert _owned_plurals("What's the latest news?") == [] and _owned_plurals("What happens if Assad's regime falls?") == []
    # An answer of the kind "they" stands for comes first, and a newer turn before an older one.
    gazetteer = Gazetteer([("Hezbollah", "ORG"), ("Israel", "GPE"), ("HTS", "ORG")])
    hezbollah = [turn("who attacked Israel's northern towns?", short="Hezbollah")]
    assert rewrite(analyze("where are they based?", gazetteer), hezbollah, gazetteer) == "where are Hezbollah based?"
    later = history + [turn("Which group took Damascus?", short="HTS")]
    assert rewrite(analyze("where are they based?", gazetteer), later, gazetteer) == "where are HTS based?"
    # A place the same question names is where they are, not what they are.
    with_place = Gazetteer([("Russia", "GPE"), ("Syria", "GPE")])
    bases = [turn("what are the names of Russia's two military bases in Syria?")]
    assert rewrite(analyze("what alert level have they been put on?", with_place), bases, with_place) == (
        "what alert level have Russia's two military bases been put on?"
    )


def test_he_is_the_person_the_last_answer_quoted_when_the_conversation_named_none():
    from rag.types import Citation

    gazetteer = Gazetteer([("Abu Mohammad al-Jolani", "PERSON"), ("HTS", "ORG"), ("Iran", "GPE"), ("Omar Daher", "PERSON")])
    quote = "Iran was surprised, Foreign Minister Omar Daher said."
    said = Answer(question="what did Iran's foreign minister say?", text=quote + " [1]", found=True,
                  citations=(Citation(1, hit(quote), quote, 0, len(quote)),), question_used="what did Iran's foreign minister say?")
    assert rewrite(analyze("what's his name?", gazetteer), [said], gazetteer) == "what's Omar Daher's name?"  # in the user's own apostrophe
    # A person the conversation named, even a turn earlier, comes before one a quote mentions.
    history = [turn("who leads HTS?", short="Abu Mohammad al-Jolani"), said]
    assert rewrite(analyze("where is he now?", gazetteer), history, gazetteer) == "where is Abu Mohammad al-Jolani now?"
    # A refusal quoted nothing; a quote naming two people leaves "he" unread.
    refused = dataclasses.replace(said, found=False)
    assert rewrite(analyze("what's his name?", gazetteer), [refused], gazetteer) == "what's his name?"
    two = "Omar Daher met Rana Sami in Doha."
    gazetteer = Gazetteer([("Iran", "GPE"), ("Omar Daher", "PERSON"), ("Rana Sami", "PERSON")])
    met = dataclasses.replace(said, citations=(Citation(1, hit(two), two, 0, len(two)),))
    assert rewrite(analyze("where is he now?", gazetteer), [met], gazetteer) == "where is he now?"
    # A name of the conversation whose kind the index doesn't know still comes first.
    unknown = dataclasses.replace(said, short="Ali Ahmed")
    assert rewrite(analyze("where is he now?", gazetteer), [unknown], gazetteer) == "where is Ali Ahmed now?"


def test_and_x_after_what_is_the_price_of_asks_its_price():
    # "price" is what is asked the value of, not a noun the answer is one of.
    assert rewrite(analyze("and Brent?"), [turn("what is the price of oil?")], None) == "what is the price of oil Brent?"


def test_a_name_in_the_possessive_is_the_name_when_a_pronoun_takes_its_place():
    history = [turn("who is Assad's wife?")]
    assert rewrite(analyze("where is he now?", GAZETTEER), history, GAZETTEER) == "where is Assad now?"
    # A group's name may end in 's.
    gazetteer = Gazetteer([("McDonald's", "ORG")])
    rewritten = rewrite(analyze("where is it based?", gazetteer), [turn("who founded McDonald's?")], gazetteer)
    assert rewritten == "where is McDonald's based?"


def test_a_follow_up_asking_for_another_one_is_not_answered_by_the_earlier_turns_names():
    history = [turn("who leads HTS?", short="Abu Mohammad al-Jolani")]
    before = analyze("which group did Abu Mohammad al-Jolani lead before?", GAZETTEER)
    assert contrasted(before, history, GAZETTEER) == ("HTS",)  # a group, the kind asked for; not the person
    assert contrasted(analyze("which group does Abu Mohammad al-Jolani lead?", GAZETTEER), history, GAZETTEER) == ()
    # Only the turn it follows: an older turn's answer was about something else.
    older = [turn("where is Assad now?", short="Moscow"), *history]
    where = analyze("where did Abu Mohammad al-Jolani live before?", GAZETTEER)
    assert "Moscow" not in contrasted(where, older, GAZETTEER)
    excluding = dataclasses.replace(before, excluded=("HTS",))
    assert named_in_question("Hayat Tahrir al-Sham (HTS", excluding, set())  # the tagger's span holds a bracket
    assert not named_in_question("Jabhat al-Nusra", excluding, set())


def test_there_is_the_last_place_and_is_there_is_left_alone():
    history = [turn("where is Assad now?", short="Moscow")]
    assert rewrite(analyze("what happened there?", GAZETTEER), history, GAZETTEER) == "what happened in Moscow?"
    question = "is there any news?"
    assert rewrite(analyze(question, GAZETTEER), history, GAZETTEER) == question


def test_one_name_does_not_stand_for_both_they_and_it_and_do_it_is_an_action():
    history = [turn("What did Iran say about the deal?")]
    assert rewrite(analyze("why did they do it?", GAZETTEER), history, GAZETTEER) == "why did Iran do it?"
    assert rewrite(analyze("what did they say about it?", GAZETTEER), history, GAZETTEER) == "what did Iran say about it?"
    history = [turn("who leads HTS?", short="Abu Mohammad al-Jolani")]
    # He and his are one person, named once: "his" after the name refers back to it.
    assert rewrite(analyze("what did he say about his plans?", GAZETTEER), history, GAZETTEER) == (
        "what did Abu Mohammad al-Jolani say about his plans?"
    )


def test_there_leans_on_the_conversation_in_a_question_that_names_no_place():
    analysis = analyze("how many Syrians live there?", Gazetteer([("Syrians", "NORP"), ("Moscow", "GPE")]))
    assert analysis.follow_up
    history = [turn("where is Assad now?", short="Moscow")]
    assert rewrite(analysis, history, GAZETTEER) == "how many Syrians live in Moscow?"
    # After a preposition, the place alone.
    assert rewrite(analyze("how many Syrians came from there?", GAZETTEER), history, GAZETTEER) == "how many Syrians came from Moscow?"
    # After a verb of motion, there is where to.
    assert rewrite(analyze("why did he go there?", GAZETTEER), history, GAZETTEER) == "why did Assad go to Moscow?"
    assert rewrite(analyze("who took him there?", GAZETTEER), history, GAZETTEER) == "who took Assad to Moscow?"
    assert not analyze("how many Syrians live there in Moscow?", GAZETTEER).follow_up
    assert not analyze("are there Syrians in Moscow?", GAZETTEER).follow_up


def test_an_ellipsis_swaps_the_name_into_the_previous_question():
    history = [turn("What did Russia say about Assad?")]
    assert rewrite(analyze("and Iran?", GAZETTEER), history, GAZETTEER) == "What did Iran say about Assad?"


def test_an_ellipsis_naming_what_the_previous_question_asked_for_takes_its_place():
    rewritten = rewrite(analyze("what about Germany?", GAZETTEER), [turn("which countries froze asylum decisions?")], GAZETTEER)
    assert rewritten == "Germany froze asylum decisions?"
    assert analyze(rewritten, GAZETTEER).intent == "fact"  # no longer a list
    assert rewrite(analyze("and Iran?", GAZETTEER), [turn("who granted Assad asylum?")], GAZETTEER) == (
        "Iran granted Assad asylum?"
    )
    # Only where the question word is the subject: as the object, the name is added.
    assert rewrite(analyze("and Iran?", GAZETTEER), [turn("what country did Assad flee to?")], GAZETTEER) == (
        "what country did Assad flee to Iran?"
    )
    # Of another kind than the earlier question's one name (a tagger's label may be
    # wrong) and not of the kind it asks for: in that name's place.
    assert rewrite(analyze("and Jordan?", GAZETTEER), [turn("which group did Assad fight?")], GAZETTEER) == (
        "which group did Jordan fight?"
    )
    # … but not into a place where something happened: a person can't take its part.
    assert rewrite(analyze("and Assad?", GAZETTEER), [turn("how many people died in Moscow?")], GAZETTEER) == (
        "how many people died in Moscow Assad?"
    )
    # A name of another kind than the one asked for is only added.
    assert rewrite(analyze("and Iran?", GAZETTEER), [turn("when did the rebels reach the capital?")], GAZETTEER) == (
        "when did the rebels reach the capital Iran?"
    )


def test_a_bare_question_word_asks_it_of_the_previous_question():
    assert analyze("why?", GAZETTEER).follow_up and analyze("How many?", GAZETTEER).follow_up
    assert not analyze("why did Israel strike?", GAZETTEER).follow_up
    history = [turn("what did Netanyahu order?")]
    assert rewrite(analyze("why?", GAZETTEER), history, GAZETTEER) == "why did Netanyahu order?"
    assert analyze(rewrite(analyze("when?", GAZETTEER), history, GAZETTEER), GAZETTEER).intent == "when"
    history = [turn("How many people fled Aleppo?")]
    rewritten = rewrite(analyze("where?", GAZETTEER), history, GAZETTEER)
    assert rewritten == "where people fled Aleppo?" and analyze(rewritten, GAZETTEER).intent == "fact"
    assert rewrite(analyze("how so?", GAZETTEER), [turn("what did Netanyahu order?")], GAZETTEER) == (
        "how did Netanyahu order?"
    )
    assert rewrite(analyze("why?", GAZETTEER), [turn("how old is Assad?")], GAZETTEER) == "why is Assad?"
    assert rewrite(analyze("why?", GAZETTEER), [turn("Who's the new leader?")], GAZETTEER) == "why the new leader?"
    assert not analyze("why not?", GAZETTEER).follow_up  # asks the opposite: no rewrite can say it


def test_a_question_word_keeps_its_kind_behind_a_preposition():
    assert analyze("by whom was the prison built?", GAZETTEER).expected == WHO
    assert analyze("until when does the curfew last?", GAZETTEER).intent == "when"
    assert not analyze("by the way, who won?", GAZETTEER).follow_up
    # Asked alone, it asks the previous question again, as a bare question word does.
    history = [turn("was the group listed as terrorist?")]
    rewritten = rewrite(analyze("by whom?", GAZETTEER), history, GAZETTEER)
    assert rewritten == "by whom was the group listed as terrorist?"
    assert analyze(rewritten, GAZETTEER).expected == WHO
    assert rewrite(analyze("since when?", GAZETTEER), [turn("did Russia hold the base?")], GAZETTEER) == (
        "when did Russia hold the base?"
    )


def test_without_history_a_question_stays_as_it_is():
    analysis = analyze("where is he now?", GAZETTEER)
    assert rewrite(analysis, [], GAZETTEER) == "where is he now?"


# -- selection and composition ----------------------------------------------------------


def candidate(hit_, sentence, probability, answers=(), position=0, entities=None):
    start = hit_.text.index(sentence)
    return Candidate(hit_, start, start + len(sentence), position, tuple(0.0 for _ in FEATURES),
                     tuple(answers), probability, tuple(answers if entities is None else entities))


PASSAGE = (
    "Mikhail Ulyanov, Russia’s envoy in Vienna, confirmed the news. "
    "“Bashar Assad and his family are in Moscow,” the diplomat wrote on Telegram. "
    "However, the Kremlin has not confirmed it."
)


def test_a_quote_brings_the_sentence_it_leans_on_and_the_caveat_after_it():
    h = hit(PASSAGE)
    quote = "“Bashar Assad and his family are in Moscow,” the diplomat wrote on Telegram."
    best = candidate(h, quote, 0.9, position=1)
    chosen = select(analyze("where is Assad?", GAZETTEER), [best])
    assert chosen[0].text == PASSAGE
    bare = select(analyze("where is Assad?", GAZETTEER), [best], rules=Rules(lean_back=False, qualification=False))
    assert bare[0].text == quote


def test_a_sentence_naming_someone_by_the_role_brings_the_one_naming_them():
    text = ("Russia will keep its support, senator Konstantin Kosachev has said. "
            "The senator added that a civil war is for the Syrians to deal with.")
    best = candidate(hit(text), "The senator added that a civil war is for the Syrians to deal with.", 0.9, position=1)
    assert select(analyze("who said the Syrians must deal with a civil war?", GAZETTEER), [best])[0].text == text
    # A role opening no person ("The report added …") leans on nothing.
    report = "Russia will keep its support. The report added that a civil war is likely."
    best = candidate(hit(report), "The report added that a civil war is likely.", 0.9, position=1)
    assert select(analyze("what did the report add?", GAZETTEER), [best])[0].text == "The report added that a civil war is likely."


def test_a_sentence_ending_in_a_colon_is_quoted_with_what_it_announces():
    text = ("When there is a choice, the library will prefer APIs that:\n\n1. Have a per-thread pool.\n"
            "2. Only affect the current thread.\n\nInstalling it takes a minute.")
    h = hit(text)
    best = candidate(h, "When there is a choice, the library will prefer APIs that:", 0.9)
    chosen = select(analyze("which APIs does the library prefer?", GAZETTEER), [best])
    # Up to the end of the paragraph after it, not into the next one.
    assert chosen[0].text == text[: text.index("\n\nInstalling")]
    assert select(analyze("which APIs does the library prefer?", GAZETTEER), [best], rules=Rules(announced=False))[0].text == (
        "When there is a choice, the library will prefer APIs that:"
    )


def test_a_quote_reaches_back_past_sentences_that_lean_on_the_one_before():
    text = ("The weather was fine. Jane Doe was appointed minister in 2012. Less than two months later, however, "
            "she resigned. Between 2015 and 2017, she led the committee.")
    h = hit(text)
    best = candidate(h, "Between 2015 and 2017, she led the committee.", 0.9, position=3)
    chosen = select(analyze("who led the committee?", GAZETTEER), [best])
    # "she" after an opening phrase leans back, and so does the sentence before it, up to the name.
    assert chosen[0].text == text[text.index("Jane Doe") :]


def test_an_opening_phrase_naming_someone_leaves_the_pronoun_after_it_read():
    text = "Schools stayed closed in the north. When Jane Doe arrived in the capital, she said the talks would go on."
    h = hit(text)
    sentence = text[text.index("When") :]
    best = candidate(h, sentence, 0.9, position=1, entities=(Entity(text.index("Jane"), text.index("Jane") + 8, "PERSON"),))
    assert select(analyze("what did Jane Doe say?", GAZETTEER), [best])[0].text == sentence


def test_a_former_holder_is_found_whatever_the_titles_own_words():
    from rag.answering.select import titled

    h = hit("Former Ruritanian prime minister John Roe could become the head of the council.")
    roe = Entity(h.text.index("John"), h.text.index("John") + 8, "PERSON")
    former = candidate(h, h.text, 0.9, answers=(roe,))
    analysis = analyze("who is the prime minister?", GAZETTEER)
    assert titled(former, analysis) is None and titled(former, analysis, past=True) == roe


def test_a_title_of_another_body_is_not_preferred_for_a_role_question():
    asked = hit("Between 2015 and 2017, Jane Doe served on the Negotiations Committee as its head.", rank=1)
    other = hit("John Roe, the head of the Farmers Union, has arrived in the capital.", rank=2)
    roe = Entity(0, 8, "PERSON")
    ranked = [candidate(asked, asked.text, 0.8, entities=(Entity(23, 31, "PERSON"),)),
              candidate(other, other.text, 0.3, answers=(roe,), entities=(roe,))]
    analysis = analyze("who heads the Negotiations Committee?", GAZETTEER)
    assert analysis.role == ("head",)
    # "the head of the Farmers Union" titles someone with the role, of another body.
    assert select(analysis, ranked)[0].hit is asked


def test_a_denial_is_quoted_beside_the_claim():
    claim = hit("HTS fighters have captured a prison in Homs, Reuters has reported.", rank=1)
    denial = hit("“There is no truth” to reports of fighters entering Homs, the ministry said.", rank=2)
    ranked = [candidate(claim, claim.text, 0.8), candidate(denial, denial.text, 0.5)]
    quotes = select(analyze("Did HTS get into Homs?", GAZETTEER), ranked)
    assert [q.text for q in quotes] == [claim.text, denial.text]
    assert len(select(analyze("Did HTS get into Homs?", GAZETTEER), ranked, rules=Rules(dispute=False))) == 1


def test_a_list_takes_one_item_bearing_sentence_per_passage():
    texts = [
        "Denmark has put asylum decisions on hold.",
        "Germany is suspending asylum procedures.",
        "Austria has also frozen asylum applications.",
        "The harbour reopened to cargo ships.",
    ]
    hits = [hit(t, rank=i + 1) for i, t in enumerate(texts)]
    ranked = [
        candidate(h, h.text, p, answers=(Entity(0, h.text.index(" "), "GPE"),) if i < 3 else ())
        for i, (h, p) in enumerate(zip(hits, (0.9, 0.8, 0.7, 0.85)))
    ]
    ranked.sort(key=lambda c: -c.probability)
    analysis = analyze("Which countries froze asylum decisions?", GAZETTEER)
    quotes = select(analysis, ranked)
    assert [q.text.split()[0] for q in quotes] == ["Denmark", "Germany", "Austria"]
    assert short_answer(analysis, quotes) == "Denmark, Germany, Austria"


def test_the_shipped_model_answers_who_with_the_person_beside_the_question_words():
    text = "Russian President Vladimir Putin granted Bashar Assad asylum, Kremlin spokesman Dmitry Peskov said."
    h = hit(text)
    entities = tuple(Entity(text.index(n), text.index(n) + len(n), "PERSON") for n in ("Vladimir Putin", "Dmitry Peskov"))
    analysis = analyze("who granted Assad asylum?", GAZETTEER)
    quotes = [Quote(candidate(h, text, 0.9, answers=entities), 0, len(text))]
    assert short_answer(analysis, quotes, 0.9, load_model().short) == "Vladimir Putin"


@pytest.mark.parametrize(
    "sentence, place, placed",
    [
        ("Rebels freed the prisoners of the prison near Damascus.", "near Damascus", True),
        ("Rebels freed the prisoners of the prison near Damascus.", "Damascus", True),
        ("The talks were held in the north of Syria.", "Syria", True),
        ("The army took a district in the northern part of Syria.", "Syria", True),
        ("Russia granted him asylum.", "Russia", False),  # a country that acts
        ("She worked at Google for years.", "Google", False),  # a company, no place
    ],
)
def test_who_is_not_answered_by_a_place_named_as_where(sentence, place, placed):
    from rag.answering.compose import _placed

    name = place.split()[-1]
    entities = (entity(sentence, name, "ORG" if name == "Google" else "GPE"),)
    span = Entity(sentence.index(place), sentence.index(place) + len(place), "NAME")
    assert _placed(analyze("who freed them?", GAZETTEER), sentence, span, entities) is placed
    assert not _placed(analyze("where were they freed?", GAZETTEER), sentence, span, entities)


@pytest.mark.parametrize("question, counts_another", [
    ("how many people were killed in the airstrikes?", True),  # "three airstrikes" counts the strikes
    ("how many airstrikes were carried out?", False),  # what is asked
    ("how many people were killed?", False),  # a noun the question doesn't name: maybe its synonym
    ("who carried out the airstrikes?", False),  # counts nothing
])
def test_a_number_of_something_else_the_question_names_is_no_short_answer(question, counts_another):
    from rag.answering.compose import _counts_another

    sentence = "Israel has conducted three airstrikes on the center."
    span = Entity(sentence.index("three"), sentence.index("three") + len("three"), "CARDINAL")
    assert _counts_another(analyze(question, GAZETTEER), sentence, span) is counts_another
    casualties = "The strikes killed 30 civilians."
    span = Entity(casualties.index("30"), casualties.index("30") + 2, "CARDINAL")
    assert not _counts_another(analyze("how many people were killed in the strikes?", GAZETTEER), casualties, span)

    def counts_another(question, sentence, number):
        at = sentence.index(number)
        return _counts_another(analyze(question, GAZETTEER), sentence, Entity(at, at + len(number), "CARDINAL"))

    assert not counts_another("how many displaced Syrians does Turkey host?", "Turkey hosts 3 million displaced Syrians.", "3 million")
    # Words of what is counted are not something else: "Syrian" of "Syrian refugees".
    assert not counts_another("how many Syrian refugees does Turkey host?", "Turkey hosts 3.2 million Syrians.", "3.2 million")
    # A verb after the number ends what it counts: the people may be those killed.
    assert not counts_another("how many people were killed in the strikes?", "At least 12 killed in strikes.", "12")
    # The first plural after the number is what it counts, not one further on.
    assert counts_another("how many people were killed in the airstrikes?", "Three airstrikes killed 12 people.", "Three")
    assert not counts_another("how many people were killed in the airstrikes?", "Three airstrikes killed 12 people.", "12")


def test_a_short_answer_keeps_a_capital_letter_that_ends_a_name():
    from rag.answering.compose import _clean

    assert _clean("Plan A") == "Plan A" and _clean("the 4pm and") == "4pm"


def test_a_list_item_ends_on_the_name_not_on_a_word_the_tagger_ran_on_to():
    text = "Envoys came from Qatar and, later, from Egypt and Jordan."
    h = hit(text)
    ragged = [Entity(text.index("Qatar"), text.index("Qatar") + len("Qatar and"), "GPE"), entity(text, "Egypt", "GPE")]
    analysis = analyze("which countries sent envoys?", GAZETTEER)
    quotes = [Quote(candidate(h, text, 0.9, answers=tuple(ragged)), 0, len(text))]
    assert short_answer(analysis, quotes, 0.9, load_model().short) == "Qatar, Egypt"


@pytest.mark.parametrize(
    "sentence, name, speaks",
    [
        ("Putin has no scheduled meetings with Assad, Peskov has said.", "Peskov", True),
        ("Putin has no scheduled meetings with Assad, Peskov has said.", "Putin", False),  # what Peskov said
        ("“We will not let Assad return,” said Foreign Minister Hakan Fidan.", "Fidan", True),
        ("“We will not let Assad return,” said Foreign Minister Hakan Fidan.", "Assad", False),  # quoted
        ("On Sunday, Benjamin Netanyahu said he gave the army an order.", "Netanyahu", True),
        ("The source told the agency that Iran faces the inauguration of Donald Trump.", "Trump", False),
        ("It added that Assad ordered a peaceful transition of power.", "Assad", False),
        ("According to the Washington Post, the US is in touch with Ankara.", "Washington Post", True),
        ("Qatar condemned Israel for moving into the buffer zone.", "Qatar", True),
        ("Qatar condemned Israel for moving into the buffer zone.", "Israel", False),  # the object
        ("Israel struck a depot in the south, local media reports claim, releasing a video.", "Israel", False),
        ("The State Department designated al-Jolani as a “global terrorist” in 2013.", "Jolani", False),  # scare quotes
        ("Iran was “surprised” by the army’s collapse, Iranian Foreign Minister Abbas Araghchi has said.", "Iran", True),
    ],
)
def test_a_statement_is_quoted_only_where_the_name_is_the_speaker(sentence, name, speaks):
    from rag.answering.select import spoken_by

    assert spoken_by(sentence, [name]) is speaks


@pytest.mark.parametrize("question", ["what did Putin say?", "What was said about the asylum?", "what did the Kremlin announce?"])
def test_a_question_about_what_was_said_gets_no_short_answer(question):
    text = "Russian President Vladimir Putin granted Bashar Assad asylum, Kremlin spokesman Dmitry Peskov said."
    h = hit(text)
    entities = tuple(Entity(text.index(n), text.index(n) + len(n), "PERSON") for n in ("Vladimir Putin", "Dmitry Peskov"))
    analysis = analyze(question, GAZETTEER)
    assert analysis.asks_statement
    quotes = [Quote(candidate(h, text, 0.9, answers=entities), 0, len(text))]
    assert short_answer(analysis, quotes, 0.9, load_model().short) is None


@pytest.mark.parametrize("question, deed", [
    ("what did Putin do?", True), ("What did Peskov urge the rebels to do?", True), ("what is the Kremlin doing?", True),
    ("what has Russia done?", True), ("who granted Assad asylum?", False), ("what did Putin grant?", False),
    ("what was the damage done?", False), ("what do rebels call the city?", False), ("what did Putin do in 2011?", True),
])
def test_a_question_about_what_was_done_gets_no_short_answer(question, deed):
    text = "Russian President Vladimir Putin granted Bashar Assad asylum, Kremlin spokesman Dmitry Peskov said."
    entities = tuple(Entity(text.index(n), text.index(n) + len(n), "PERSON") for n in ("Vladimir Putin", "Dmitry Peskov"))
    analysis = analyze(question, GAZETTEER)
    assert analysis.asks_action is deed
    # A model that always shows its best span: only the question's kind holds it back.
    weights = tuple({"entity": 3.0}.get(f, 0.0) for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 5.0, 0.5)
    quotes = [Quote(candidate(hit(text), text, 0.9, answers=entities), 0, len(text))]
    assert (short_answer(analysis, quotes, 0.9, model) is None) is deed


def test_when_answers_state_the_entry_date():
    h = hit("The Syrian Embassy in Moscow has raised the flag of the opposition.", date="2024-12-09")
    analysis = analyze("When did the embassy raise the opposition flag?", GAZETTEER)
    quotes = [Quote(candidate(h, h.text, 0.9), 0, len(h.text))]
    result = compose(analysis, analysis.text, quotes, [h], 0.9)
    assert result.text == f"On 9 December 2024: {h.text} [1]"
    assert result.short == "9 December 2024"
    assert result.citations[0].start == h.start and result.citations[0].end == h.end


@pytest.mark.parametrize(
    "sentence, day",
    [
        ("On Sunday, the embassy raised the opposition flag.", "8 December 2024"),  # the 9th is a Monday
        ("The embassy raised the opposition flag yesterday.", "8 December 2024"),
        ("The embassy raised the opposition flag on Friday, and staff left on Sunday.", "9 December 2024"),
        ("Staff said on Monday the embassy raised the opposition flag last week.", "9 December 2024"),
        # A weekday that ends a time to come says nothing of when the flag was raised.
        ("The embassy raised the opposition flag and closed until Wednesday.", "9 December 2024"),
    ],
)
def test_when_answers_read_a_relative_day_from_the_entry_date(sentence, day):
    h = hit(sentence, date="2024-12-09")
    analysis = analyze("When did the embassy raise the opposition flag?", GAZETTEER)
    quotes = [Quote(candidate(h, h.text, 0.9), 0, len(h.text))]
    assert compose(analysis, analysis.text, quotes, [h], 0.9).short == day


def test_an_overview_quotes_the_best_sentence_of_each_top_passage():
    hits = [hit(f"Airstrike number {i} hit a depot near the coast overnight.", rank=i) for i in range(1, 6)]
    ranked = sorted((candidate(h, h.text, 0.1 * h.rank) for h in hits), key=lambda c: -c.probability)
    quotes = select(analyze("tell me about the airstrikes", GAZETTEER), ranked)
    assert [q.hit.rank for q in quotes] == [1, 2, 3, 4]  # passage order, four at most


def test_an_overview_quotes_two_passages_and_more_only_when_they_score_near_the_best():
    hits = [hit(f"Airstrike number {i} hit a depot near the coast overnight.", rank=i) for i in range(1, 6)]
    probabilities = {1: 0.5, 2: 0.05, 3: 0.3, 4: 0.1, 5: 0.4}
    ranked = sorted((candidate(h, h.text, probabilities[h.rank]) for h in hits), key=lambda c: -c.probability)
    quotes = select(analyze("tell me about the airstrikes", GAZETTEER), ranked)
    assert [q.hit.rank for q in quotes] == [1, 2, 3, 5]  # 4 scores under 0.35 of the best
    day = select(analyze("what happened on December 7?", GAZETTEER, DAYS), ranked)
    assert [q.hit.rank for q in day] == [1, 2, 3, 4]  # a day's passages are its most central, whatever they score


def test_an_overview_of_a_name_quotes_only_sentences_that_name_it():
    texts = ["Rebels drove the army out of Moscow and two other cities.", "The airport was evacuated overnight.",
             "Officials said flights to Moscow resumed. The airport reopened later."]
    hits = [hit(text, rank=i) for i, text in enumerate(texts, 1)]
    ranked = [candidate(hits[0], texts[0], 0.5), candidate(hits[1], texts[1], 0.4),
              candidate(hits[2], "The airport reopened later.", 0.3),
              candidate(hits[2], "Officials said flights to Moscow resumed.", 0.2)]
    quotes = select(analyze("What's the situation in Moscow?", GAZETTEER), ranked)
    assert [q.text for q in quotes] == [texts[0], "Officials said flights to Moscow resumed."]
    # Without a name, the best sentence of each top passage, as before.
    assert len(select(analyze("tell me about the airport", GAZETTEER), ranked)) == 3


def test_an_overview_with_no_sentence_naming_its_name_abstains():
    from rag.answering import Attempt, decide

    texts = ["Refugees crossed the border overnight.", "Refugees waited at the camp."]
    hits = [hit(text, rank=i) for i, text in enumerate(texts, 1)]
    ranked = [candidate(h, h.text, 0.5) for h in hits]
    analysis = analyze("tell me about refugees in Moscow", GAZETTEER)
    result = decide(analysis.text, Attempt(analysis, hits, ranked, 0.5, False, []))
    assert not result.found and not result.citations


@pytest.mark.parametrize(
    "question, topic",
    [
        ("give me a summary of the airstrikes", "airstrikes"),
        ("Can you summarize the talks in Doha?", "talks Doha"),
        ("Could you tell me about the prison?", "prison"),
        ("I'd like to know more about the refugees", "refugees"),
        ("What's happening in Damascus?", "Damascus"),
        ("what is the situation in Homs?", "Homs"),
        ("catch me up on the offensive", "offensive"),
        ("fill me in on the ceasefire", "ceasefire"),
        ("What's the latest on the buffer zone?", "buffer zone"),
        ("what went on in Homs?", "Homs"),
        # How someone reacted is told over several reports; who reacted stays in the topic.
        ("How did Iran react to the fall of Assad?", "Iran fall Assad"),
        ("What was Iran's response to the offensive?", "Iran's offensive"),
        ("what has Turkey been saying about the refugees?", "Turkey refugees"),
        ("Can you explain how the ceasefire works?", "ceasefire works"),
    ],
)
def test_overviews_are_recognised_however_politely_asked(question, topic):
    analysis = analyze(question, GAZETTEER, DAYS)
    assert analysis.intent == "overview"
    assert analysis.topic == topic


def test_an_overview_of_a_reaction_quotes_the_one_who_reacted():
    texts = ["Assad fled to Moscow overnight.", "Iran said it was surprised by the fall of Assad.",
             "Germany and Austria paused asylum decisions after Assad fell."]
    hits = [hit(text, rank=i) for i, text in enumerate(texts, 1)]
    ranked = [candidate(h, h.text, 0.5 - 0.1 * i) for i, h in enumerate(hits)]
    gazetteer = Gazetteer([("Assad", "PERSON"), ("Iran", "GPE"), ("Germany", "GPE")])
    assert [q.text for q in select(analyze("How did Iran react to the fall of Assad?", gazetteer), ranked)] == [texts[1]]
    # Also after a phrase set before the question.
    assert [q.text for q in select(analyze("After Assad fell, how did Iran react?", gazetteer), ranked)] == [texts[1]]
    # A region written as an adjective is named by its countries: no name then restricts.
    european = select(analyze("How did European countries react after Assad fell?", gazetteer), ranked)
    assert [q.text for q in european] == texts


@pytest.mark.parametrize("question", ["What is happening?", "Can you name the minister?", "What is the capital of France?",
                                      "What is the response time?", "What is the position of the switch?",
                                      "What are the two integer responses to a decision problem?",
                                      "What is the saying about cats?", "how does the API respond to an expired token?",
                                      "What is the server's response to a malformed request?"])
def test_questions_that_only_start_like_an_overview_are_not_one(question):
    assert analyze(question, GAZETTEER, DAYS).intent != "overview"


def test_a_topic_is_unmentioned_only_when_no_passage_holds_any_of_its_words():
    hits = [hit("Israeli jets struck three airfields overnight.", rank=1), hit("The landing strip was closed.", rank=2)]
    assert topic_unmentioned(analyze("tell me about quantum computing", GAZETTEER), hits)
    assert not topic_unmentioned(analyze("tell me about the airfields", GAZETTEER), hits)
    # One shared word is enough: a topic said in other words than the passages' still counts.
    assert not topic_unmentioned(analyze("tell me about the moon landing", GAZETTEER), hits)
    assert not topic_unmentioned(analyze("what happened on 8 December?", GAZETTEER, DAYS), hits)  # no topic words


def test_the_rules_tagger_is_deterministic():
    text = "On 8 December 2024, HTS leader Abu Mohammad al-Jolani said 3 million people returned."
    entities = RuleTagger().tag([text])[0]
    found = {(text[e.start : e.end], e.label) for e in entities}
    assert ("8 December 2024", "DATE") in found
    assert ("3 million", "CARDINAL") in found
    assert ("Abu Mohammad al-Jolani", "NAME") in found
    assert RuleTagger().tag([text]) == RuleTagger().tag([text])


def test_only_capitalised_names_and_any_number_or_date_can_answer():
    assert written_as_name("the Kurds", "NORP") and written_as_name("Qatar", "GPE")
    assert not written_as_name("jihadist", "NORP") and not written_as_name("the army", "ORG")
    assert written_as_name("three", "CARDINAL") and written_as_name("last week", "DATE")
    assert written_as_name("al-Qaeda", "ORG") and written_as_name("bin Laden", "PERSON")  # a particle leads


def test_a_nationality_word_before_a_noun_is_an_adjective():
    text = "The Syrian president fled, Israelis cheered and the Kurds held Raqqa; Russian officials, Iranian."
    tagged = [entity(text, name, "NORP") for name in ("Syrian", "Israelis", "Kurds", "Russian", "Iranian")]
    adjectives = {text[e.start : e.end] for e in tagged if nationality_adjective(text, e)}
    assert adjectives == {"Syrian", "Russian"}  # plurals are the people; before a full stop, no noun follows


def test_a_nationality_adjective_is_listed_only_when_nationalities_are_asked_for():
    text = "Russian officials met Iranians and Turks in the Syrian capital."
    answers = tuple(entity(text, name, "NORP") for name in ("Russian", "Iranians", "Turks", "Syrian"))
    h = hit(text)
    quotes = [Quote(candidate(h, text, 0.9, answers=answers, entities=answers), 0, len(text))]
    who = analyze("which groups met?", GAZETTEER)
    assert short_answer(who, quotes, 0.9, load_model().short) == "Iranians, Turks"
    nationalities = dataclasses.replace(who, expected=frozenset({"NORP"}))
    listed = short_answer(nationalities, quotes, 0.9, load_model().short).split(", ")
    assert sorted(listed) == ["Iranians", "Russian", "Syrian", "Turks"]


def test_a_name_takes_the_kind_its_own_first_or_last_word_says():
    text = "Troops took Mount Hermon near Lake Tiberias, then Mezzeh Airport; Bank of Syria staff and Mount 2 left."
    tagged = tuple(
        entity(text, name, label)
        for name, label in [("Mount Hermon", "ORG"), ("Lake Tiberias", "ORG"), ("Mezzeh Airport", "GPE"),
                            ("Bank of Syria", "ORG"), ("Mount 2", "CARDINAL"), ("Troops", "NORP")]
    )
    relabelled = {text[e.start : e.end]: e.label for e in by_kind_word(text, tagged)}
    assert relabelled == {
        "Mount Hermon": "LOC", "Lake Tiberias": "LOC", "Mezzeh Airport": "FAC", "Bank of Syria": "ORG",
        "Mount 2": "CARDINAL",  # a number keeps its label
        "Troops": "NORP",  # one word: nothing to read a kind from
    }
    # A kind word in the other place is often another kind's, and a person keeps the label.
    text = "West Bank, Coast Guard, Michael Bay"
    tagged = (entity(text, "West Bank", "GPE"), entity(text, "Coast Guard", "ORG"), entity(text, "Michael Bay", "PERSON"))
    assert by_kind_word(text, tagged) == tagged
    lower = "troops took the mount hermon road"
    assert by_kind_word(lower, (Entity(16, 28, "PERSON"),)) == (Entity(16, 28, "PERSON"),)  # kind words are capitalised in a name


# -- short answers: the spans a sentence offers ------------------------------------------------

SENTENCE = "Russian President Vladimir Putin granted Bashar Assad asylum, Kremlin spokesman Dmitry Peskov said."


def entity(text, name, label):
    return Entity(text.index(name), text.index(name) + len(name), label)


def test_spans_are_words_between_common_words_and_punctuation_plus_whole_entities():
    text = "The Bank of England raised rates to 5.25 percent, the Council on Foreign Relations said on Thursday."
    found = {text[s.start : s.end] for s in spans(analyze("what did the bank raise?"), text, 0, len(text),
                                                       (entity(text, "Council on Foreign Relations", "ORG"),))}
    assert {"Bank of England", "5.25 percent", "Thursday", "Council on Foreign Relations"} <= found
    assert "Council on Foreign" not in found  # "on" joins no name but an entity's own words
    assert not any(f.split()[0].lower() in ("to", "the", "on") or f.split()[-1].lower() in ("of", "the") for f in found)
    assert not any("," in f or f.endswith(".") for f in found)  # no span crosses a comma or ends a sentence
    assert "raised rates" in found and "rates to" not in found  # "to" joins no name: a clause ends there
    assert all(len(f.split()) <= MAX_WORDS for f in found)


def span_features(analysis, text, start=0, end=None, entities=()):
    """Each candidate span of ``text[start:end]`` → its features by name."""
    end = len(text) if end is None else end
    return {text[s.start : s.end]: dict(zip(SPAN_FEATURES, s.features)) for s in spans(analysis, text, start, end, entities)}


def test_span_features_say_what_the_question_holds_and_what_type_it_asks():
    entities = (entity(SENTENCE, "Vladimir Putin", "PERSON"), entity(SENTENCE, "Dmitry Peskov", "PERSON"))
    analysis = analyze("who granted Assad asylum?", GAZETTEER)
    found = span_features(analysis, SENTENCE, entities=entities)
    putin, asylum, half = found["Vladimir Putin"], found["asylum"], found["Putin"]
    assert putin["entity"] == putin["type_match"] == 1.0 and putin["in_question"] == 0.0
    assert asylum["in_question"] == 1.0 and asylum["typed_miss"] == 1.0
    assert half["cuts_entity"] == 1.0 and half["type_inside"] == 1.0
    assert putin["before_asked"] == 0.0 and putin["after_asked"] == 1.0  # "… Putin granted"
    assert putin["near"] > found["Dmitry Peskov"]["near"]


def test_a_spans_place_in_the_parse_is_read_against_the_questions_words():
    from rag.parsing import Token

    sentence = "Smith signed the treaty in Paris."
    parse = (Token(0, 5, "nsubj", 1, "PROPN"), Token(6, 12, "ROOT", 1, "VERB"), Token(13, 16, "det", 3, "DET"),
             Token(17, 23, "dobj", 1, "NOUN"), Token(24, 26, "prep", 1, "ADP"), Token(27, 32, "pobj", 4, "PROPN"),
             Token(32, 33, "punct", 1, "PUNCT"))
    analysis = analyze("who signed the treaty?")

    def grammar(found, text):
        (span,) = [s for s in found if sentence[s.start : s.end] == text]
        return {n: v for n, v in zip(SPAN_FEATURES, span.features) if n.startswith(("tree", "governor", "object", "dep_"))}

    found = spans(analysis, sentence, 0, len(sentence), (), parse)
    smith = grammar(found, "Smith")  # the subject of "signed": one edge to it, two to "treaty"
    assert smith["tree_near"] == 0.5 and smith["tree_spread"] == pytest.approx(0.15)
    assert smith["governor_asked"] == 1.0 and smith["object_of_asked"] == 0.0 and smith["dep_nsubj"] == 1.0
    paris = grammar(found, "Paris")  # in a prepositional phrase of "signed": its object, two edges away
    assert paris["tree_near"] == pytest.approx(1 / 3) and paris["governor_asked"] == 0.0
    assert paris["object_of_asked"] == 1.0 and paris["dep_pobj"] == 1.0
    # Without a parse (an index tagged by rules) the grammar says nothing.
    assert set(grammar(spans(analysis, sentence, 0, len(sentence), ()), "Smith").values()) == {0.0}


def test_a_span_in_the_clause_of_the_questions_word_is_marked():
    sentence = "Rebels took Palmyra, while the army held Hama."
    parse = _parse_of(sentence, [("Rebels", "nsubj", 1, "NOUN"), ("took", "ROOT", 1, "VERB"), ("Palmyra", "dobj", 1, "PROPN"),
                                 (",", "punct", 1, "PUNCT"), ("while", "mark", 7, "SCONJ"), ("the", "det", 6, "DET"),
                                 ("army", "nsubj", 7, "NOUN"), ("held", "advcl", 1, "VERB"), ("Hama", "dobj", 7, "PROPN"),
                                 (".", "punct", 1, "PUNCT")])
    found = spans(analyze("who captured Palmyra?"), sentence, 0, len(sentence), (), parse)
    same = {sentence[s.start : s.end]: dict(zip(SPAN_FEATURES, s.features))["same_clause"] for s in found}
    # "Rebels" hangs on "took", as "Palmyra" does; "army", next to "Palmyra" on the page, on "held".
    assert same["Rebels"] == 1.0 and same["army"] == 0.0


def test_a_token_the_span_cuts_still_gives_it_its_grammar():
    from rag.parsing import Token

    sentence = "The U.S. imposed sanctions."  # the span's words end before the token's final period
    parse = (Token(0, 3, "det", 1, "DET"), Token(4, 8, "nsubj", 2, "PROPN"), Token(9, 16, "ROOT", 2, "VERB"),
             Token(17, 26, "dobj", 2, "NOUN"), Token(26, 27, "punct", 2, "PUNCT"))
    found = spans(analyze("which country imposed sanctions?"), sentence, 0, len(sentence), (), parse)
    (us,) = [s for s in found if sentence[s.start : s.end] == "U.S"]
    grammar = dict(zip(SPAN_FEATURES, us.features))
    assert grammar["dep_nsubj"] == 1.0 and grammar["governor_asked"] == 1.0 and grammar["tree_near"] == 0.5


def test_a_parser_that_fails_to_load_leaves_sentences_unparsed(monkeypatch, caplog):
    import rag.parsing

    monkeypatch.setattr(rag.parsing, "SPACY_PACKAGE", "no_such_spacy_package_here")
    parser = rag.parsing.SpacyParser()
    assert parser("Putin granted Assad asylum.") is None and parser("Another sentence.") is None
    assert sum("did not load" in r.getMessage() for r in caplog.records) == 1  # said once


def test_only_an_index_tagged_by_spacy_is_parsed():
    from rag.parsing import parser_for

    assert parser_for("rules") is None and parser_for("none") is None and parser_for(None) is None


def test_a_country_is_mentioned_by_any_of_its_names():
    from rag.answering.question import other_names

    assert mentions("Türkiye currently hosts 3 million Syrians.", "Turkey")
    assert mentions("Burma's generals", "Myanmar") and mentions("Czechia voted", "Czech Republic")
    # A part is not the country: "Holland" is no name of the Netherlands.
    assert not mentions("in Holland", "Netherlands")
    # Its demonym is, made by no suffix ("German", "Dutch", "Turkish") as by one ("Syrian").
    assert mentions("The German chancellor spoke.", "Germany") and mentions("Dutch troops", "Netherlands")
    assert mentions("Turkish officials said so.", "Türkiye") and mentions("Germany's chancellor", "German")
    assert mentions("Germans voted.", "Germany") and not mentions("a germ of an idea", "Germany")
    # As written, never spelled loosely, nor another people's ("Latin American").
    assert not mentions("Workers will finish the pipeline.", "Finland") and mentions("the Finnish side", "Finland")
    assert not mentions("Latin American leaders met.", "United States") and mentions("American officials", "United States")
    assert "turkiye" in other_names("Turkey") and other_names("Syria") == ()
    assert not mentions("A turkey was served.", "Greece")


def test_a_question_naming_a_country_one_way_finds_passages_naming_it_another(tmp_path):
    from rag import sync
    from rag.answering import answer, attempt

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "news.txt").write_text(
        "Türkiye currently hosts an estimated 3 million displaced Syrians.\n\n"
        "Lebanon hosts about 1.5 million refugees from Syria, officials say.\n\n"
        "Jordan has reopened its border crossing with Syria after a week of closure.\n",
        encoding="utf-8",
    )
    sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="rules")
    tried = attempt("how many Syrians does Turkey host?", k=1, index=tmp_path / "index")
    # Keyword search meets "Türkiye" through the country's other name, and the gate on
    # names no passage mentions lets it through.
    assert "Türkiye" in tried.hits[0].text and not tried.gated
    overview = answer("tell me about Turkey", index=tmp_path / "index")
    assert overview.found and "Türkiye" in overview.text


FORMER = "Former prime minister John Roe could become the head of the interim council, a newspaper has reported."
CURRENT = ("The council met on Monday in the capital to discuss the budget, the water supply, the schools and the "
           "roads. Its prime minister, Jane Doe, said the talks would go on.")


def test_a_role_holder_ranked_past_the_k_best_is_found_and_a_former_one_is_no_short_answer(tmp_path):
    from rag import sync
    from rag.answering import answer

    for name, texts in (("both", [FORMER, CURRENT]), ("former", [FORMER])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "news.txt").write_text("\n\n".join(texts) + "\n", encoding="utf-8")
        sync([tmp_path / name], tmp_path / f"{name}-index", model="hash", tagger="rules")
    # The best passage titles only a former holder: the next one, titling the holder, joins it.
    found = answer("who is the prime minister?", k=1, index=tmp_path / "both-index")
    assert found.short == "Jane Doe" and [h.rank for h in found.hits] == [1, 2] and "Jane Doe" in found.text
    # Found further down (7th, say), it is numbered on from the k shown, with no gap.
    from rag.answering import _score, _with_titling_passages
    from rag.answering.model import load_model
    from rag.search import open_index, retrieve

    store = open_index(tmp_path / "both-index")
    analysis = analyze("who is the prime minister?", store.gazetteer, store.known_dates)
    tried = _score(analysis, retrieve(store, analysis.text, 1), store, load_model())
    deeper = [dataclasses.replace(h, rank=7 if h.rank == 2 else h.rank) for h in retrieve(store, analysis.text, 2)]
    assert [h.rank for h in _with_titling_passages(tried, deeper, store, load_model()).hits] == [1, 2]
    # With no other, the former holder is quoted (the quote says "former") but is no short answer …
    former = answer("who is the prime minister?", k=1, index=tmp_path / "former-index")
    assert "Former prime minister John Roe" in former.text and former.short is None
    # … unless the question asks for a former one.
    assert answer("who was the former prime minister?", k=1, index=tmp_path / "former-index").short == "John Roe"


def _parse_of(sentence: str, relations: list[tuple[str, str, int, str]]):
    """A hand-made parse: (word, relation, head's index, part of speech) for each word, in order."""
    from rag.parsing import Token

    tokens, at = [], 0
    for word, dep, head, pos in relations:
        start = sentence.index(word, at)
        tokens.append(Token(start, start + len(word), dep, head, pos))
        at = start + len(word)
    return tuple(tokens)


TITLED = ("Kremlin spokesman Dmitry Peskov has said so.",
          [("Kremlin", "compound", 1, "PROPN"), ("spokesman", "compound", 3, "NOUN"), ("Dmitry", "compound", 3, "PROPN"),
           ("Peskov", "nsubj", 5, "PROPN"), ("has", "aux", 5, "AUX"), ("said", "ROOT", 5, "VERB"), ("so", "advmod", 5, "ADV"),
           (".", "punct", 5, "PUNCT")])
APPOSED = ("Abu al-Julani, the head of the group, has arrived.",
           [("Abu", "compound", 1, "PROPN"), ("al-Julani", "nsubj", 10, "PROPN"), (",", "punct", 1, "PUNCT"),
            ("the", "det", 4, "DET"), ("head", "appos", 1, "NOUN"), ("of", "prep", 4, "ADP"), ("the", "det", 7, "DET"),
            ("group", "pobj", 5, "NOUN"), (",", "punct", 1, "PUNCT"), ("has", "aux", 10, "AUX"), ("arrived", "ROOT", 10, "VERB"),
            (".", "punct", 10, "PUNCT")])
APPOSED_TO = ("Biden's adviser, Jake Sullivan, spoke.",
              [("Biden", "poss", 2, "PROPN"), ("'s", "case", 0, "PART"), ("adviser", "nsubj", 7, "NOUN"), (",", "punct", 2, "PUNCT"),
               ("Jake", "compound", 5, "PROPN"), ("Sullivan", "appos", 2, "PROPN"), (",", "punct", 2, "PUNCT"),
               ("spoke", "ROOT", 7, "VERB"), (".", "punct", 7, "PUNCT")])
RANKED = ("Col. Adam Ray, the army's spokesman, spoke.",  # spaCy reads "Col." as two words
          [("Col", "compound", 3, "PROPN"), (".", "compound", 3, "PROPN"), ("Adam", "compound", 3, "PROPN"),
           ("Ray", "nsubj", 10, "PROPN"), (",", "punct", 3, "PUNCT"), ("the", "det", 6, "DET"), ("army", "poss", 8, "NOUN"),
           ("'s", "case", 6, "PART"), ("spokesman", "appos", 3, "NOUN"), (",", "punct", 3, "PUNCT"),
           ("spoke", "ROOT", 10, "VERB"), (".", "punct", 10, "PUNCT")])
BARE = ("Peskov said so.", [("Peskov", "nsubj", 1, "PROPN"), ("said", "ROOT", 1, "VERB"), ("so", "advmod", 1, "ADV"),
                            (".", "punct", 1, "PUNCT")])


@pytest.mark.parametrize(
    "example, name, names, expected",
    [
        (TITLED, "Dmitry Peskov", (), "Kremlin spokesman"),  # the title before the name
        (TITLED, "Peskov", ((18, 31),), "Kremlin spokesman"),  # a surname is the whole name: its first name is no title
        (APPOSED, "Abu al-Julani", (), "the head of the group"),  # an apposition after it
        (APPOSED_TO, "Jake Sullivan", (), "Biden's adviser"),  # the noun it is in apposition to
        (BARE, "Peskov", (), None),  # nothing said of it
        (RANKED, "Adam Ray", (), "the army's spokesman"),  # a one-word title (a rank) gives way to an apposition
        # … that says what he is: not an age, nor initials.
        (("President Adam Ray, 59, spoke.", [("President", "compound", 2, "PROPN"), ("Adam", "compound", 2, "PROPN"),
                                             ("Ray", "nsubj", 6, "PROPN"), (",", "punct", 2, "PUNCT"), ("59", "appos", 2, "NUM"),
                                             (",", "punct", 2, "PUNCT"), ("spoke", "ROOT", 6, "VERB"), (".", "punct", 6, "PUNCT")]),
         "Adam Ray", (), "President"),
        (("Col. Adam Ray spoke.", [("Col.", "compound", 2, "PROPN"), ("Adam", "compound", 2, "PROPN"),
                                   ("Ray", "nsubj", 3, "PROPN"), ("spoke", "ROOT", 3, "VERB"), (".", "punct", 3, "PUNCT")]),
         "Adam Ray", (), "Col."),  # with no apposition, the title it has
        # A character that folds to several ("…") leaves the offsets as they are.
        ((TITLED[0].replace("so.", "so…"), TITLED[1][:-1]), "Dmitry Peskov", (), "Kremlin spokesman"),
    ],
)
def test_who_is_is_answered_with_the_title_or_apposition_the_sentence_gives(example, name, names, expected):
    from rag.answering.describe import description

    sentence, relations = example
    found = description(sentence, name, _parse_of(sentence, relations), names)
    assert (sentence[found[0] : found[1]] if found else None) == expected
    assert description(sentence, name, None) is None  # no parse, no description


def test_only_who_is_a_name_asks_for_a_description():
    from rag.answering.describe import described_name

    assert described_name(analyze("who is Dmitry Peskov?")) == "Dmitry Peskov"
    assert described_name(analyze("what did Dmitry Peskov say?")) is None
    assert described_name(analyze("tell me about the Golan Heights")) is None


@pytest.mark.integration
def test_who_is_a_person_of_the_default_corpus_gets_their_title(corpus_index):
    from rag.answering import answer

    result = answer("who is Dmitry Peskov?", index=corpus_index)
    assert result.found and result.short == "Kremlin spokesman"
    assert "Kremlin spokesman Dmitry Peskov" in result.text


@pytest.mark.integration
def test_the_spacy_parser_reads_a_subject_and_an_object():
    from rag.parsing import parser_for

    parse = parser_for("spacy:en_core_web_sm")
    sentence = "Putin granted Assad asylum in Moscow."
    relations = {sentence[t.start : t.end]: t.dep for t in parse(sentence)}
    assert relations["Putin"] == "nsubj" and relations["Moscow"] == "pobj"
    assert parse(sentence) is parse(sentence)  # parsed once


PARSED_TEXT = (
    "Putin granted Assad asylum in Moscow, the Kremlin said on Monday.\n\n"
    "The rebels entered Damascus after a lightning offensive that began in Idlib province."
)


@pytest.mark.integration
def test_indexing_stores_the_parse_of_each_quotable_sentence(tmp_path):
    from rag import sync
    from rag.answering.candidates import quotable_spans
    import sqlite3

    from rag.parsing import PARSES_FILE, _key, _spacy_parser, has_parses, parser_for
    from rag.search import open_index

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "news.txt").write_text(PARSED_TEXT, encoding="utf-8")
    sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="spacy")
    store = open_index(tmp_path / "index")
    assert has_parses(store.path)
    stored = parser_for(store.manifest.tagger, store.path).stored
    sentences = [c.text[s:e] for c in store.chunks for s, e, _ in quotable_spans(c.text)]
    assert len(sentences) == 2
    for sentence in sentences:
        # The stored parse is the one spaCy gives the sentence alone, as answers read it.
        assert stored.get(sentence) == _spacy_parser()(sentence)
    assert stored.get("A sentence no document holds.") is None
    # An index without its parses (built before they were stored) gets them on its next sync.
    (tmp_path / "index" / PARSES_FILE).unlink()
    assert not has_parses(store.path)
    sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="spacy")
    assert has_parses(store.path) and stored.get(sentences[0]) == _spacy_parser()(sentences[0])
    # Left incomplete (a pass that failed), it is completed by the next sync, changed or not.
    with sqlite3.connect(tmp_path / "index" / PARSES_FILE) as db:
        db.execute("DELETE FROM meta")
        db.execute("DELETE FROM parses WHERE key = ?", (_key(sentences[1]),))
    sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="spacy")
    assert has_parses(store.path) and stored.get(sentences[1]) == _spacy_parser()(sentences[1])
    # A sentence edited away takes its parse with it; the new one has its own.
    (tmp_path / "docs" / "news.txt").write_text(PARSED_TEXT.replace("lightning", "swift"), encoding="utf-8")
    sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="spacy")
    assert stored.get(sentences[1]) is None
    assert stored.get(sentences[1].replace("lightning", "swift")) == _spacy_parser()(sentences[1].replace("lightning", "swift"))


def test_parses_written_by_another_process_are_read_once_complete(tmp_path):
    import json
    import sqlite3

    from rag.parsing import PARSES_FILE, _key, has_parses, parser_for, pipeline_version

    if pipeline_version() is None:
        pytest.skip("spaCy is not installed")
    stored = parser_for("spacy:en_core_web_sm", tmp_path).stored
    assert not has_parses(tmp_path) and stored.get("Putin spoke.") is None  # no file yet
    with sqlite3.connect(tmp_path / PARSES_FILE) as db:  # as a sync in another process writes it
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE TABLE parses (key BLOB PRIMARY KEY, tokens TEXT NOT NULL)")
        db.execute("INSERT INTO parses VALUES (?, ?)", (_key("Putin spoke."), json.dumps([[0, 5, "nsubj", 1, "PROPN"]])))
    assert not has_parses(tmp_path)  # not complete yet: no pipeline row
    with sqlite3.connect(tmp_path / PARSES_FILE) as db:
        db.execute("INSERT INTO meta VALUES ('pipeline', ?)", (pipeline_version(),))
    assert has_parses(tmp_path) and stored.get("Putin spoke.")[0].dep == "nsubj"


def test_an_index_tagged_by_rules_stores_no_parses(tmp_path):
    from rag import sync
    from rag.parsing import PARSES_FILE, has_parses

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "news.txt").write_text(PARSED_TEXT, encoding="utf-8")
    sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="rules")
    assert not (tmp_path / "index" / PARSES_FILE).exists() and not has_parses(tmp_path / "index")


def test_parses_stored_by_another_pipeline_version_are_not_read(tmp_path):
    import json
    import sqlite3

    from rag.parsing import PARSES_FILE, _key, has_parses, parser_for, pipeline_version

    if pipeline_version() is None:
        pytest.skip("spaCy is not installed")
    sentence = "Putin granted Assad asylum."
    tokens = [[0, 5, "nsubj", 1, "PROPN"], [6, 13, "ROOT", 1, "VERB"], [14, 19, "dative", 1, "PROPN"],
              [20, 26, "dobj", 1, "NOUN"], [26, 27, "punct", 1, "PUNCT"]]
    for version, readable in (("spacy 0.0; some_pipeline 0.0", False), (pipeline_version(), True)):
        folder = tmp_path / str(readable)
        folder.mkdir()
        with sqlite3.connect(folder / PARSES_FILE) as db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE parses (key BLOB PRIMARY KEY, tokens TEXT NOT NULL)")
            db.execute("INSERT INTO meta VALUES ('pipeline', ?)", (version,))
            db.execute("INSERT INTO parses VALUES (?, ?)", (_key(sentence), json.dumps(tokens)))
        assert has_parses(folder) is readable
        stored = parser_for("spacy:en_core_web_sm", folder).stored.get(sentence)
        assert (stored is not None) is readable
        if readable:
            assert [(t.dep, t.head) for t in stored][:2] == [("nsubj", 1), ("ROOT", 1)]


@pytest.mark.integration
def test_a_sync_whose_parsing_fails_keeps_what_it_indexed(tmp_path, monkeypatch, caplog):
    import rag.parsing
    from rag import search, sync

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rag.parsing, "store_parses", broken)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "news.txt").write_text(PARSED_TEXT, encoding="utf-8")
    report = sync([tmp_path / "docs"], tmp_path / "index", model="hash", tagger="spacy")
    assert report.added == ("news.txt",) and report.chunks_added >= 1
    assert "Putin" in search("who granted asylum?", k=1, index=tmp_path / "index")[0].text
    assert any("parses were not stored" in r.getMessage() and "disk full" in r.getMessage() for r in caplog.records)


def test_the_agent_after_by_is_marked_when_it_follows_a_word_of_the_question():
    text = "The Syrian Democratic Forces, backed by the US, have seized the city, reported by Reuters."
    entities = (entity(text, "US", "GPE"), entity(text, "Reuters", "ORG"))
    found = span_features(analyze("Who backed the Syrian Democratic Forces?"), text, entities=entities)
    assert found["US"]["passive_agent"] == 1.0
    assert found["Reuters"]["passive_agent"] == 0.0  # "reported" is no word of the question


def test_the_acronym_of_a_name_in_the_question_is_not_its_answer():
    text = "The Syrian Democratic Forces (SDF), backed by the US, have seized the city."
    entities = (entity(text, "Syrian Democratic Forces", "ORG"), entity(text, "SDF", "ORG"), entity(text, "US", "GPE"))
    found = {text[s.start : s.end] for s in spans(analyze("Who backed the Syrian Democratic Forces?"), text, 0, len(text), entities)}
    assert "US" in found and "SDF" not in found and "Syrian Democratic Forces" not in found
    found = {text[s.start : s.end] for s in spans(analyze("Who backed the SDF?"), text, 0, len(text), entities)}
    assert "US" in found and "Syrian Democratic Forces" not in found


def test_the_short_answer_model_shows_a_span_only_when_likely_enough():
    h = hit(SENTENCE)
    entities = (entity(SENTENCE, "Vladimir Putin", "PERSON"), entity(SENTENCE, "Dmitry Peskov", "PERSON"))
    analysis = analyze("who granted Assad asylum?", GAZETTEER)
    quotes = [Quote(candidate(h, SENTENCE, 0.9, answers=entities), 0, len(SENTENCE))]
    weights = tuple(3.0 if f in ("type_match", "near") else -3.0 if f == "in_question" else 0.0 for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 0.0, 0.5)
    assert short_answer(analysis, quotes, 0.9, model) == "Vladimir Putin"
    doubtful = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), -10.0, 0.5)
    assert short_answer(analysis, quotes, 0.9, doubtful) is None


def test_the_asking_word_stands_in_for_each_span_in_its_sentence():
    assert asking_word("How many people came?") == "how many"
    assert asking_word("In which year did it open?") == "which"
    assert asking_word("Name the bridge's architect.") == "what"
    text = "The bridge was designed by Ada Berg in 1907."
    start = text.index("Ada Berg")
    chosen = [Span(start, start + len("Ada Berg"), ()), Span(text.index("1907"), text.index("1907") + 4, ())]
    assert filled("Who designed the bridge?", text, 0, len(text), chosen) == [
        "The bridge was designed by who in 1907.", "The bridge was designed by Ada Berg in who."
    ]


def test_the_second_reading_prefers_the_span_the_asking_word_can_replace():
    from rag.hash_embedding import HashEncoder

    encoder = HashEncoder()  # words and word pairs: "who granted" is shared only when "Smith" is replaced
    question = "who granted asylum?"
    text = "Smith granted asylum to Jones."
    analysis = analyze(question, GAZETTEER)
    found = {text[s.start : s.end]: s for s in spans(analysis, text, 0, len(text), ())}
    # By their features alone, "Jones" (a capital inside the sentence) comes first.
    jones_first = tuple({"one_word": 1.0, "capital": 0.5}.get(f, 0.0) for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, jones_first, (1.0, 0.0, 0.0), 0.0, 0.5, fill_weights=(1.0, 0.0))
    reading = Reading(encoder.encode_query(question)[0], encoder.encode_documents)
    first = ranked(model, question, text, 0, len(text), list(found.values()), reading)
    assert len(first) == FILL_TOP and text[first[0][1].start :].startswith("Jones")
    assert "Smith" in {text[s.start : s.end] for _, s in first}
    reread = dataclasses.replace(model, fill_weights=(0.0, 1.0))
    gains = {text[s.start : s.end]: g for g, s in ranked(reread, question, text, 0, len(text), list(found.values()), reading)}
    assert gains["Smith"] > gains["Jones"]  # "who granted asylum to Jones" is nearer the question
    assert text[ranked(reread, question, text, 0, len(text), list(found.values()), reading)[0][1].start :].startswith("Smith")
    # Without a reading there is no gain to rank by: the features' order stands.
    plain = ranked(reread, question, text, 0, len(text), list(found.values()), None)
    assert all(score == 0.0 for score, _ in plain)


def test_fill_gains_are_the_question_similarity_gained_in_tenths_of_a_cosine():
    question = np.array([1.0, 0.0])
    sentence = np.array([0.6, 0.8])
    gains = fill_gains(question, sentence, np.array([[0.8, 0.6], [0.0, 1.0]]))
    assert np.allclose(gains, [2.0, -6.0])


@pytest.mark.parametrize(
    "span, gold, holds",
    [("Vladimir Putin", ("Putin",), True), ("President Vladimir Putin said", ("Putin",), False),
     ("Moscow", ("in Moscow|Moscow",), True), ("Kremlin", ("Putin",), False)],
)
def test_a_span_holds_the_answer_only_with_a_few_words_more(span, gold, holds):
    assert holds_answer(span, gold) is holds


def test_a_title_line_is_context_not_a_quote_but_a_list_item_is_content():
    text = (
        "Assad in Moscow after Damascus falls\n\n"
        "The president has left the country amid a swift offensive in several regions.\n"
        "- Denmark paused asylum decisions\n"
    )
    quotable = [text[s:e] for s, e, _ in _sentence_spans(hit(text))]
    assert "Assad in Moscow after Damascus falls" not in quotable
    assert any("Denmark paused asylum decisions" in q for q in quotable)
    assert is_heading(text, 0, text.index("\n"))


@pytest.mark.parametrize(
    "question", ["Who is Abu Mohammad al-Jolani?", "who was Marie Curie", "What is HTS?", "what's the Iran"]
)
def test_a_question_that_only_names_something_asks_for_an_overview_of_it(question):
    analysis = analyze(question, GAZETTEER)
    assert analysis.intent == "overview" and analysis.expected == frozenset()
    assert analysis.topic.lower().endswith(analysis.names[0][0].lower())


def test_who_is_followed_by_more_than_a_name_still_asks_for_a_person():
    # A role held by people asks for a person; a plain "who" may be answered by a group or country.
    assert analyze("who is the leader of HTS?", GAZETTEER).expected == {"PERSON"}
    assert analyze("who leads HTS?", GAZETTEER).expected == PEOPLE | {"GPE"}


def test_a_model_file_from_another_version_says_to_refit_it(tmp_path):
    import json

    from rag.answering.model import MODEL_FILE
    from rag.errors import RagError

    data = json.loads(MODEL_FILE.read_text())
    data["fitted"]["short"]["features"] = data["fitted"]["short"]["features"][:-1]
    stale = tmp_path / "model.json"
    stale.write_text(json.dumps(data))
    with pytest.raises(RagError, match="refit it: python scripts/fit_answer_model.py"):
        load_model(str(stale))


ROLES = [
    "Israeli Prime Minister Benjamin Netanyahu spoke on Monday.",
    "Former Syrian prime minister Riad Hijab could lead the transition.",
    "The Israeli deployment is temporary, Foreign Minister Gideon Saar has said.",
    "Syrian Prime Minister Mohammad al-Jalali stayed in his home.",
]


def role_candidates():
    ranked = []
    for i, text in enumerate(ROLES):
        name = {0: "Benjamin Netanyahu", 1: "Riad Hijab", 2: "Gideon Saar", 3: "Mohammad al-Jalali"}[i]
        h = hit(text, rank=i + 1, chunk_id=i)
        ranked.append(candidate(h, text, 0.9 - 0.1 * i, answers=(entity(text, name, "PERSON"),)))
    return ranked


@pytest.mark.parametrize(
    "question, holder",
    [
        ("who is the Israeli foreign minister?", "Gideon Saar"),  # a bare title; "Israeli" elsewhere in the sentence
        ("who is the Syrian prime minister?", "Mohammad al-Jalali"),  # not the Israeli one, nor a former one
        ("who was the former Syrian prime minister?", "Riad Hijab"),
        ("who is the Israeli prime minister?", "Benjamin Netanyahu"),
    ],
)
def test_who_holds_a_role_is_answered_where_a_title_names_it(question, holder):
    analysis = analyze(question, GAZETTEER)
    assert analysis.expected == {"PERSON"} and analysis.role
    quotes = select(analysis, role_candidates())
    assert holder in quotes[0].text
    # Switched off, the best sentence is quoted, whatever its title.
    assert select(analysis, role_candidates(), rules=Rules(titles=False))[0].text == ROLES[0]


def test_a_title_stating_the_whole_role_goes_before_a_bare_one_read_with_its_passage():
    bare = "Troops moved into Syria on Monday, Prime Minister Benjamin Netanyahu said."
    whole = "Syrian Prime Minister Mohammad al-Jalali stayed in his home."
    ranked = [
        candidate(hit(bare, rank=1, chunk_id=1), bare, 0.9, answers=(entity(bare, "Benjamin Netanyahu", "PERSON"),)),
        candidate(hit(whole, rank=2, chunk_id=2), whole, 0.5, answers=(entity(whole, "Mohammad al-Jalali", "PERSON"),)),
    ]
    gazetteer = Gazetteer([("Syria", "GPE"), ("Austria", "GPE")])
    for question in ("who is syria's prime minister?", "who is the prime minister of syria?", "who is Syria’s current prime minister?"):
        assert "al-Jalali" in select(analyze(question, gazetteer), ranked)[0].text
    # With no title that states it, the bare title in a passage naming Syria answers.
    assert "Netanyahu" in select(analyze("who is syria's prime minister?", gazetteer), ranked[:1])[0].text
    # Whose role it is, by the name's spellings: "Australian" is not Austria's.
    bare = "Austria will tighten asylum rules, Foreign Minister Alexander Schallenberg said."
    other = "Australian Foreign Minister Penny Wong visited Jakarta."
    ranked = [
        candidate(hit(bare, rank=1, chunk_id=1), bare, 0.9, answers=(entity(bare, "Alexander Schallenberg", "PERSON"),)),
        candidate(hit(other, rank=2, chunk_id=2), other, 0.2, answers=(entity(other, "Penny Wong", "PERSON"),)),
    ]
    assert "Schallenberg" in select(analyze("who is Austria's foreign minister?", gazetteer), ranked)[0].text


def test_a_title_set_off_by_commas_before_the_name_names_the_role():
    text = "The commission oversees the river. Its director-general, Manfred Seitz, said so in 2019."
    h = hit(text)
    sentence = "Its director-general, Manfred Seitz, said so in 2019."
    ranked = [candidate(h, "The commission oversees the river.", 0.9),
              candidate(h, sentence, 0.2, position=1, answers=(entity(text, "Manfred Seitz", "PERSON"),))]
    analysis = analyze("who is the director-general of the commission?", GAZETTEER)
    assert "Manfred Seitz" in select(analysis, ranked)[0].text
    assert "Manfred Seitz" not in select(analysis, ranked, rules=Rules(titles=False))[0].text


def test_a_short_answer_running_on_into_another_name_keeps_the_asked_one():
    from rag.answering.compose import _asked_part

    text = "In 1856 the Treaty of Paris created the commission."
    span = Entity(text.index("1856"), text.index(" created"), "NAME")
    entities = (entity(text, "1856", "DATE"), entity(text, "the Treaty of Paris", "LAW"))
    assert text[slice(*_span(_asked_part(analyze("when was the commission created?"), text, span, entities)))] == "1856"
    # A question asking for no type keeps the span.
    assert _asked_part(analyze("what created the commission?"), text, span, entities) == span
    # Common words around a name go; a title in capitals stays.
    text = "Chief executive officer Nancy Davolio said revenue grew; President Ada Berg agreed."
    for words, kept in (("executive officer Nancy Davolio said", "Nancy Davolio"), ("President Ada Berg", "President Ada Berg")):
        span = Entity(text.index(words), text.index(words) + len(words), "NAME")
        name = kept.replace("President ", "")
        found = _asked_part(analyze("who said so?"), text, span, (entity(text, name, "PERSON"),))
        assert text[found.start : found.end] == kept


def test_why_is_not_answered_with_a_name():
    from rag.answering.compose import _name_for_why

    text = "Its director-general, Manfred Seitz, said shipping fell because of low water."
    name = entity(text, "Manfred Seitz", "PERSON")
    assert _name_for_why(analyze("why did shipping fall?"), name, (name,))
    assert not _name_for_why(analyze("who said shipping fell?"), name, (name,))
    reason = Entity(text.index("low water"), text.index("low water") + len("low water"), "NAME")
    assert not _name_for_why(analyze("why did shipping fall?"), reason, (name,))


def _span(e):
    return e.start, e.end


def test_a_role_is_read_only_from_a_question_asking_who_holds_it():
    assert analyze("who was the leader of Russia in the 1960s?").role == ("leader",)
    assert analyze("who was the king ranked above?").role == ()  # the role is the subject
    assert analyze("who is the kremlin spokesman?").role == ("kremlin", "spokesman")
    assert analyze("who granted Assad asylum?").role == ()


def test_a_verb_whose_doer_holds_a_title_asks_for_the_role():
    leads = analyze("who leads HTS?")
    assert leads.role == ("leader",) and leads.expected == WHO  # a group or a country may lead too
    assert analyze("who founded the company in 1990?").role == ("founder",)
    assert analyze("who currently governs the province?").role == ("governor",)
    # A clause is a deed, not what a role is of; a verb with no title names no role.
    assert analyze("who led the group that captured the prison?").role == ()
    assert analyze("who runs the country?").role == ()
    assert analyze("who granted Assad asylum?").role == ()
    # A deed is led, not held: no title names who led an attack or talks.
    assert analyze("who led the attack?").role == () and analyze("who led the talks in Geneva?").role == ()
    # A particle or a preposition makes another verb; "first" asks about the past, not the holder.
    for question in ("who ruled out a ceasefire?", "who leads in the polls?", "who heads up the committee?",
                     "who first led the group?"):
        assert analyze(question).role == (), question
    # A name ending like a verb is still a name.
    assert analyze("who heads the United Nations?").role == ("head",)
    assert analyze("who governs Beijing?").role == ("governor",)


def test_a_role_verb_is_retrieved_as_the_title_passages_name_the_holder_by():
    assert as_role_question(analyze("Who leads HTS?")) == "who is the leader of hts?"
    assert as_role_question(analyze("who leads the rebels in Idlib now?")) == "who is the leader of rebels in idlib now?"
    assert as_role_question(analyze("who is the leader of HTS?")) is None  # already asked by the title
    assert as_role_question(analyze("who granted Assad asylum?")) is None


def test_a_title_holds_the_verb_it_is_made_from():
    words = with_agents(["leader", "founder", "governor"])
    assert {"lead", "found", "govern"} <= words
    # Words that merely end alike are no titles: "former" holds no "form", "later" no "late".
    assert with_agents(["former", "later", "water"]) == {"former", "later", "water"}


def test_a_persons_full_name_is_mentioned_by_the_surname_alone():
    assert mentions("The State Department designated al-Jolani in 2013", "Abu Mohammed al-Julani", person=True)
    assert not mentions("The State Department designated al-Jolani in 2013", "Abu Mohammed al-Julani")
    assert not mentions("York said", "New York")  # a place is not named by its last word
    # A surname alone is also a common word: only written as a name does it name the person.
    assert not mentions("Thousands lost their jobs.", "Steve Jobs", person=True)
    assert mentions("Jobs said so.", "Steve Jobs", person=True)
    assert mentions("Smith Jr. said", "John Smith Jr.", person=True)  # a suffix is not the surname
    assert surname("Bashar") is None and surname("Li Na") is None  # one word is the name; two letters too few
    assert surname("Assad’s") is None and surname("Bashar Assad’s") == "Assad"
    assert surname("Tom Jones’s") == "Jones"


@pytest.mark.parametrize(
    "sentence, names, listed",
    [
        ("Rebels took the cities of Aleppo, Hama, Homs, and Al-Qusayr at the border with Lebanon.",
         ["Aleppo", "Hama", "Homs", "Al-Qusayr", "Lebanon"], ["Aleppo", "Hama", "Homs", "Al-Qusayr"]),
        ("Envoys from countries such as Qatar and Egypt met.", ["Qatar", "Egypt"], ["Qatar", "Egypt"]),
        ("Three nations – Denmark, Sweden, and Norway – paused decisions.", ["Denmark", "Sweden", "Norway"],
         ["Denmark", "Sweden", "Norway"]),
        # A name after a bare comma ends no list: it is something else.
        ("Troops left the city of Homs, Syrian media said.", ["Homs", "Syrian"], ["Homs"]),
        ("Troops left the cities in the north, Aleppo included.", ["Aleppo"], []),  # no list right after the noun
    ],
)
def test_names_listed_under_a_noun_of_their_kind_take_its_kind(sentence, names, listed):
    from rag.entities import listed_under, under_kind_noun

    tagged = tuple(entity(sentence, n, "PERSON") for n in names)  # the small tagger's mistakes
    found = [sentence[e.start : e.end] for _, items in listed_under(sentence, tagged) for e in items]
    assert found == listed
    relabelled = {sentence[e.start : e.end]: e.label for e in under_kind_noun(sentence, tagged)}
    assert [n for n in names if relabelled[n] == "GPE"] == listed


def test_a_list_a_passage_gives_under_the_asked_noun_answers_below_the_threshold():
    from rag.answering import Attempt, decide

    listing = "Rebels took the cities of Aleppo, Hama and Homs last week."
    texts = [listing, "The city of Latakia stayed calm.", "Fighting went on near the coast."]
    hits = [hit(text, rank=i, chunk_id=i) for i, text in enumerate(texts, 1)]
    ranked = [candidate(hits[2], texts[2], 0.05), candidate(hits[0], listing, 0.04,
                                                             answers=tuple(entity(listing, n, "GPE") for n in ("Aleppo", "Hama", "Homs"))),
              candidate(hits[1], texts[1], 0.03, answers=(entity(texts[1], "Latakia", "GPE"),))]
    analysis = analyze("which cities did the rebels take?", GAZETTEER)
    result = decide(analysis.text, Attempt(analysis, hits, ranked, 0.05, False, []))
    assert result.found and [c.quote for c in result.citations] == [listing]  # only the writer's list
    assert result.short == "Aleppo, Hama, Homs"
    # Switched off, the confidence decides, and it is too low.
    assert not decide(analysis.text, Attempt(analysis, hits, ranked, 0.05, False, []), rules=Rules(writers_lists=False)).found
    # A list under another noun is no answer to this question.
    other = analyze("which villages did the rebels take?", GAZETTEER)
    assert not decide(other.text, Attempt(other, hits, ranked, 0.05, False, [])).found


def test_names_listed_before_a_plural_noun_of_their_kind_take_its_kind():
    from rag.entities import listed_under, under_kind_noun

    sentence = "The warning covers Ofaniya, Quneitra and al-Hamidiyah villages near the border."
    names = ["Ofaniya", "Quneitra", "al-Hamidiyah"]
    tagged = tuple(entity(sentence, n, label) for n, label in zip(names, ["ORG", "PERSON", "PERSON"]))
    assert [(noun, [sentence[e.start : e.end] for e in items]) for noun, items in listed_under(sentence, tagged)] == [
        ("villages", names)
    ]
    assert {e.label for e in under_kind_noun(sentence, tagged)} == {"GPE"}
    # One name before a noun is mostly its owner's; adjectives of nationality are no names.
    for sentence, tagged in [
        ("They passed the Hezbollah checkpoints.", ("Hezbollah",)),
        ("The Russian and Iranian governments agreed.", ("Russian", "Iranian")),
    ]:
        assert listed_under(sentence, tuple(entity(sentence, n, "NORP" if n.endswith("an") else "ORG") for n in tagged)) == []


def test_no_list_of_names_after_a_collective_of_or_before_a_noun():
    from rag.entities import listed_under

    for sentence, name, label in [("A group of Syrians crossed the border.", "Syrians", "NORP"),
                                  ("They shelled the villages of Syrian farmers.", "Syrian", "NORP")]:
        assert listed_under(sentence, (entity(sentence, name, label),)) == []
    sentence = "Groups such as Hezbollah and Hamas were named."
    tagged = (entity(sentence, "Hezbollah", "ORG"), entity(sentence, "Hamas", "ORG"))
    assert [len(items) for _, items in listed_under(sentence, tagged)] == [2]


def test_a_role_in_initials_or_after_a_possessive_is_still_a_role():
    ceo = analyze("who is the CEO?", GAZETTEER)
    assert ceo.role == ("chief", "executive", "officer") and ceo.expected == {"PERSON"} and not ceo.names
    cfo = analyze("who is Northwind's CFO?", GAZETTEER)
    assert cfo.role == ("northwind", "chief", "financial", "officer") and cfo.names == (("Northwind's", "NAME"),)


@pytest.mark.parametrize("question, head, expected", [
    ("what is the name of the prison that the rebels opened?", "prison", {"FAC", "GPE", "LOC"}),
    ("what's the name of the Freedonian envoy?", "envoy", {"PERSON"}),  # past the adjective
    ("what was the name of the group that took the city?", "group", {"ORG", "NORP"}),
    ("what is the name of his wife?", None, WHO),  # a noun of no known kind: a name, as "who" asks
])
def test_the_name_of_a_thing_is_a_name_of_its_kind(question, head, expected):
    analysis = analyze(question, GAZETTEER)
    assert analysis.head_noun == head and analysis.expected == expected


def test_a_role_told_by_a_clause_still_asks_for_a_person():
    # Not a title to look up (the clause says whose role it is), but its holder is a person.
    analysis = analyze("who is the foreign minister of the country that hosts displaced refugees?", GAZETTEER)
    assert analysis.role == () and analysis.expected == {"PERSON"}
    assert analyze("who hosts displaced refugees?", GAZETTEER).expected > {"PERSON"}  # a doer: maybe a country
    assert analyze("which border crossing is still open?", GAZETTEER).head_noun == "crossing"
    assert analyze("which checkpoint is still open?", GAZETTEER).expected == {"FAC", "GPE", "LOC"}
    assert analyze("who is the PM of the country that hosted the games?", GAZETTEER).expected == {"PERSON"}
    assert "ORG" in analyze("which hotel chain bought the resort?", GAZETTEER).expected  # a building or its owner


def test_a_title_written_in_initials_is_the_role_spelled_out():
    from rag.answering.question import spelled_out
    from rag.answering.select import titled

    assert spelled_out(["Syrian", "PM"]) == ["Syrian", "Prime", "Minister"]
    assert spelled_out(["at", "5", "pm"]) == ["at", "5", "pm"]  # lower case: the time

    def titled_in(text, question):
        found = candidate(hit(text), text, 0.05, answers=(entity(text, "Rufus Firefly", "PERSON"),))
        person = titled(found, analyze(question, GAZETTEER))
        return None if person is None else text[person.start : person.end]

    text = "Freedonian PM Rufus Firefly said the talks would go on."
    for question in ("who is the prime minister of Freedonia?", "who is the PM of Freedonia?", "who is the pm of Freedonia?"):
        assert titled_in(text, question) == "Rufus Firefly", question
    assert titled_in("PM Rufus Firefly said the talks would go on.", "who is the PM?") == "Rufus Firefly"
    # Another role's initials are not this one, nor is the time of day, in either case.
    assert titled_in(text, "who is the foreign minister of Freedonia?") is None
    assert titled_in("The vote ended at 5 pm Rufus Firefly said.", "who is the prime minister?") is None
    assert titled_in("Polls closed at 8 PM and Rufus Firefly conceded.", "who is the prime minister?") is None
    # "FM" is a foreign or a finance minister: no title of either.
    assert titled_in("Freedonian FM Rufus Firefly presented the budget.", "who is the foreign minister of Freedonia?") is None
    # The question's own words are the title's, as passages write it.
    assert analyze("who is the Freedonian PM?", GAZETTEER).keywords[-2:] == ("prime", "minist")
    assert "pm" in analyze("what happened at 5 PM?", GAZETTEER).keywords


def test_a_sentence_titling_someone_with_the_role_answers_below_the_threshold():
    from rag.answering import Attempt, decide

    texts = ["Sales grew in every region last year.",
             "Chief executive officer Nancy Davolio said revenue grew 12 percent."]
    hits = [hit(text, rank=i, chunk_id=i) for i, text in enumerate(texts, 1)]
    ranked = [candidate(hits[0], texts[0], 0.05),
              candidate(hits[1], texts[1], 0.03, answers=(entity(texts[1], "Nancy Davolio", "PERSON"),))]
    ranked = [dataclasses.replace(c, title="Northwind Traders annual report") for c in ranked]
    for question in ("who is the CEO?", "who is Northwind's chief executive officer?"):
        analysis = analyze(question, GAZETTEER)
        result = decide(analysis.text, Attempt(analysis, hits, ranked, 0.04, False, []))
        assert result.found and result.short == "Nancy Davolio" and result.citations[0].quote == texts[1]
    # A question with more to it than the role needs a passage that says it.
    analysis = analyze("who was the CEO in 1990?", GAZETTEER)
    assert not decide(analysis.text, Attempt(analysis, hits, ranked, 0.04, False, [])).found


def test_name_particles_are_no_words_a_question_shares_with_a_span():
    # "al" of the question's "al-Rami" is not a word of "Jabhat al-Nusra": the span
    # holds nothing the question already holds.
    text = "Talal al-Rami once led Jabhat al-Nusra."
    found = span_features(analyze("which group did Talal al-Rami lead?"), text)
    assert found["Jabhat al-Nusra"]["in_question"] == 0.0
    assert found["Jabhat al-Nusra"]["any_in_question"] == 0.0


def test_a_questions_own_name_with_a_particle_is_still_no_span():
    text = "Forces loyal to Jaish al-Fatah seized the airport on Sunday."
    entities = (entity(text, "Jaish al-Fatah", "ORG"), entity(text, "Sunday", "DATE"))
    found = {text[s.start : s.end] for s in spans(analyze("who seized the airport from jaish al-fatah?"), text, 0, len(text), entities)}
    assert "Jaish al-Fatah" not in found and "Sunday" in found


def test_the_noun_of_who_does_a_questions_verb_counts_as_that_verb():
    # "leader" answers "which group did she lead?" as "led" would: the span after it
    # stands next to a word of the question (the next content word: near = 1/2).
    text = "In 2013 she was the leader of the Northern Alliance, officials said."
    found = span_features(analyze("which group did she lead?"), text)
    assert found["Northern Alliance"]["near"] == 0.5
    assert found["leader"]["in_question"] == 1.0
    assert found["officials"]["near"] < found["Northern Alliance"]["near"]


def test_he_and_she_stand_for_the_person_named_first_in_the_nearest_sentence_before():
    from rag.answering.pronouns import antecedent

    text = "Rana Sami, an engineer, joined Omar Daher’s party in 1998. Later he fled. In 2015 he chaired the panel."
    sami = Entity(0, len("Rana Sami"), "PERSON")
    daher = entity(text, "Omar Daher’s", "PERSON")
    # Two sentences back, past a sentence that names no one; the possessive is no subject.
    assert antecedent(text, text.rindex("he chaired"), (sami, daher)) == sami
    assert antecedent(text, text.rindex("he chaired"), (daher,)) is None
    # A person named before the pronoun in its own sentence comes first.
    own = "When Omar Daher arrived, he spoke."
    assert antecedent(own, own.index("he spoke"), (entity(own, "Omar Daher", "PERSON"),)).start == own.index("Omar")
    # Further back than _PRONOUN_REACH sentences, or in another paragraph, the passage has moved on.
    far = "Rana Sami spoke. It rained. It snowed. It cleared. Then he left."
    assert antecedent(far, far.index("he left"), (Entity(0, 9, "PERSON"),)) is None
    apart = "Rana Sami spoke.\n\nThen he left."
    assert antecedent(apart, apart.index("he left"), (Entity(0, 9, "PERSON"),)) is None
    # A surname stands for the full name before it, however the tagger labelled it alone.
    again = "Rana Sami spoke to Omar Daher.\n\nSami, an engineer, left. Later he returned."
    tagged = (Entity(0, 9, "PERSON"), entity(again, "Omar Daher", "PERSON"), Entity(again.index("Sami,"), again.index("Sami,") + 4, "ORG"))
    assert antecedent(again, again.index("he returned"), tagged) == Entity(0, 9, "PERSON")
    # … the latest person of that surname, also when the surname alone is tagged a person.
    kin = "Hadi Sami ruled. Rana Sami followed. Sami spoke. Then she left."
    tagged = (Entity(0, 9, "PERSON"), entity(kin, "Rana Sami", "PERSON"), Entity(kin.index("Sami spoke"), kin.index("Sami spoke") + 4, "PERSON"))
    assert antecedent(kin, kin.index("she left"), tagged) == entity(kin, "Rana Sami", "PERSON")
    # Two people in the sentence it would come from: which one takes knowing more.
    two = "Omar Daher met Rana Sami on Monday. She told reporters the talks had failed."
    assert antecedent(two, two.index("She"), (entity(two, "Omar Daher", "PERSON"), entity(two, "Rana Sami", "PERSON"))) is None
    # A second "he" goes on with the first, not with a name between them.
    chain = "Rana Sami returned. He told Omar Daher that he would resign."
    assert antecedent(chain, chain.rindex("he would"), (Entity(0, 9, "PERSON"), entity(chain, "Omar Daher", "PERSON"))) == (
        Entity(0, 9, "PERSON")
    )


def test_a_pronoun_is_a_short_answer_read_as_the_person_it_stands_for():
    text = "Rana Sami was born in Homs. In 2015 he chaired the panel."
    sami = Entity(0, len("Rana Sami"), "PERSON")
    start = text.index("In 2015")
    analysis = analyze("who chaired the panel?")
    found = [s for s in spans(analysis, text, start, len(text), (), None, (sami,)) if s.named]
    assert [(text[s.start : s.end], s.answer(text)) for s in found] == [("he", "Rana Sami")]
    features = dict(zip(SPAN_FEATURES, found[0].features))
    assert features["pronoun"] == features["entity"] == features["type_match"] == 1.0 and features["typed_miss"] == 0.0
    # Without the passage's entities, or when the question names that person, no pronoun answers.
    assert not any(s.named for s in spans(analysis, text, start, len(text), ()))
    assert not any(s.named for s in spans(analyze("what did Rana Sami chair in 2015?"), text, start, len(text), (), None, (sami,)))
    # The short answer is the name: a model that likes pronouns picks "he", and shows who that is.
    weights = tuple({"pronoun": 2.0}.get(f, 0.0) for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 0.0, 0.5)
    candidate = Candidate(hit(text), start, len(text), 1, (), (), passage_entities=(sami,))
    assert short_answer(analysis, [Quote(candidate, start, len(text))], 1.0, model) == "Rana Sami"


def test_the_diplomat_is_a_short_answer_read_as_the_person_named_before():
    text = "Mikhail Ulyanov, Russia’s envoy in Vienna, confirmed it.\n\n“They are in Moscow,” the diplomat wrote on Telegram."
    people = (entity(text, "Mikhail Ulyanov", "PERSON"),)
    start = text.index("“They")
    analysis = analyze("which diplomat wrote on Telegram that they were in Moscow?")
    found = [s for s in spans(analysis, text, start, len(text), (), None, people) if s.named]
    # Across the paragraph break: the passage joined them because the quote goes on with it.
    assert [(text[s.start : s.end], s.answer(text)) for s in found] == [("the diplomat", "Mikhail Ulyanov")]
    # A name in the role's own sentence is whom it speaks of, not who holds the role.
    own = "Putin met Bashar Assad on Sunday, the minister said."
    assert not any(s.named for s in spans(analyze("which minister said it?"), own, 0, len(own), (), None,
                                          (entity(own, "Putin", "PERSON"), entity(own, "Bashar Assad", "PERSON"))))
    # Someone's part in an event is mostly another person's: "The victim" is not the man arrested.
    arrest = "Police arrested John Smith on Monday. The victim was taken to hospital."
    assert not any(s.named for s in spans(analyze("who was taken to hospital?"), arrest, arrest.index("The victim"),
                                          len(arrest), (), None, (entity(arrest, "John Smith", "PERSON"),)))
    # "the minister of …" titles someone else.
    titled = "Ann Lee spoke first. Then the minister of defence said no."
    at = titled.index("Then")
    assert not any(s.named for s in spans(analyze("which minister said no?"), titled, at, len(titled), (), None,
                                          (entity(titled, "Ann Lee", "PERSON"),)))


def test_a_short_answer_may_come_from_the_sentence_quoted_with_the_best_one():
    text = "Officials froze the decisions, the ministry said. More than 47,000 applications are now pending."
    first = "Officials froze the decisions, the ministry said."
    number = entity(text, "More than 47,000", "CARDINAL")
    best = Candidate(hit(text), 0, len(first), 0, tuple(0.0 for _ in FEATURES), (), 0.9, (), passage_entities=(number,))
    analysis = analyze("how many applications are pending?", GAZETTEER)
    weights = tuple({"type_match": 3.0, "entity": 1.0}.get(f, 0.0) for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 0.0, 0.5)
    assert short_answer(analysis, [Quote(best, 0, len(text))], 0.9, model) == "More than 47,000"
    # Quoted alone, the best sentence gives what it holds, never a number it doesn't quote.
    assert "47,000" not in (short_answer(analysis, [Quote(best, 0, len(first))], 0.9, model) or "")


def test_a_place_in_the_possessive_is_no_answer_to_where():
    text = "Mikhail Ulyanov, Russia’s envoy to organizations in Vienna, confirmed it."
    entities = (entity(text, "Mikhail Ulyanov", "PERSON"), entity(text, "Russia", "GPE"), entity(text, "Vienna", "GPE"))
    analysis = analyze("Where is Mikhail Ulyanov posted?")
    # A model that prefers the first capitalised span it sees would take "Russia’s".
    weights = tuple({"type_match": 2.0, "type_inside": 2.0, "capital": 1.0, "near": 1.0}.get(f, 0.0) for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 0.0, 0.5)
    quotes = [Quote(candidate(hit(text), text, 0.9, answers=entities[1:]), 0, len(text))]
    assert short_answer(analysis, quotes, 0.9, model) == "Vienna"


def test_a_place_whose_name_holds_an_apostrophe_or_a_part_of_a_place_answers_where():
    from rag.answering.compose import _owner
    from rag.answering.spans import Span

    for text, name, place in [
        ("Thousands gathered in St Peter's Square on Sunday.", "St Peter's Square", "St Peter's Square"),
        ("Crowds celebrated in Martyrs' Square after the news.", "Martyrs' Square", "Martyrs' Square"),
        ("Assad is living in Moscow's western suburbs now.", "Moscow", "Moscow's western suburbs"),
    ]:
        entities = (entity(text, name, "FAC" if "Square" in name else "GPE"),)
        start = text.index(place)
        assert not _owner(text, Span(start, start + len(place), ()), entities)
    text = "Mikhail Ulyanov, Russia’s envoy in Vienna, confirmed it."
    start = text.index("Russia’s envoy")
    assert _owner(text, Span(start, start + len("Russia’s envoy"), ()), (entity(text, "Russia", "GPE"),))


def test_the_asked_part_of_a_longer_span_is_no_short_answer_when_it_is_an_adjective():
    text = "According to TASS, the situation near the Syrian mission is calm."
    entities = (entity(text, "TASS", "ORG"), entity(text, "Syrian", "NORP"))
    analysis = analyze("who called for calm?")
    # A model that takes the longest span: "situation near the Syrian mission", whose one
    # entity of an asked type is the adjective "Syrian".
    weights = tuple({"long": 3.0, "type_inside": 3.0}.get(f, 0.0) for f in SPAN_FEATURES)
    model = ShortModel(SPAN_FEATURES, weights, (1.0, 0.0, 0.0), 0.0, 0.5)
    quotes = [Quote(candidate(hit(text), text, 0.9, answers=entities), 0, len(text))]
    assert short_answer(analysis, quotes, 0.9, model) is None


@pytest.mark.parametrize("question, asked, never", [
    ("How large is the reward?", {"MONEY", "QUANTITY"}, {"DATE", "TIME"}),
    ("how high is inflation?", {"PERCENT"}, {"DATE"}),
    ("how far is the border?", {"QUANTITY"}, {"DATE", "MONEY"}),
    ("how long did the siege last?", {"DATE", "TIME"}, {"MONEY"}),
    ("how old is Assad?", {"DATE", "CARDINAL"}, {"PERCENT"}),
])
def test_how_big_asks_for_a_measure_a_sum_or_a_share_and_how_long_for_a_time(question, asked, never):
    expected = analyze(question, GAZETTEER).expected
    assert asked <= expected and not never & expected


@pytest.mark.parametrize("question, counted", [
    ("how many isis fighters were killed in the strikes?", "fighter"),  # the last of the first plurals
    ("how many Syrians Turkey hosts?", "syrian"),  # not the verb after the country
    ("how many ISIS were killed?", None),  # a name in capitals is no plural
    ("How many of the prisoners escaped?", "prison"),
    ("How many Syrian refugees does Turkey host?", "refuge"),
    ("how many people died in the strike?", "peopl"),
    ("how many died?", None),
    ("how much money was raised?", None),
])
def test_how_many_knows_what_it_counts(question, counted):
    assert analyze(question, GAZETTEER).counted == counted


def test_a_number_answers_how_many_when_it_counts_what_is_asked():
    text = "The strikes killed 30 ISIS fighters, officials said. Officials reported dozens of precision airstrikes."

    def counted(question, start, end):
        return {span: features["counted"] for span, features in span_features(analyze(question, GAZETTEER), text, start, end).items()}

    first = counted("how many fighters were killed?", 0, text.index(" Officials"))
    assert first["30"] == 1.0 and first["officials"] == 0.0  # within four words before it, or not
    second = counted("how many fighters were killed?", text.index("Officials"), len(text))
    assert second["dozens"] == 0.0  # it counts airstrikes
    assert counted("how many airstrikes were reported?", text.index("Officials"), len(text))["dozens"] == 1.0
    assert set(counted("how many died?", 0, text.index(" Officials")).values()) == {0.0}  # nothing asked to count
