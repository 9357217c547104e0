"""Every `--help` says what each thing is: every positional and option of every command of monitor, sim,
broker and deploy has a description, and every subcommand a line of its own. Walks the real parsers, so a
flag added without help fails here."""

import argparse

import pytest

from broker.cli import certs_parser, serve_parser, user_parser
from deploy.cli import build_parser as deploy_parser
from monitor.arguments import build_parser as monitor_parser
from sim.cli import build_parser as sim_parser

PARSERS = {
    "monitor": monitor_parser,
    "sim": sim_parser,
    "deploy": deploy_parser,
    "broker": serve_parser,
    "broker user": user_parser,
    "broker certs": certs_parser,
}


def undescribed(parser, path):
    """(where, what) for each action of `parser` and its subcommands, at any depth, with no help text."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            described = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if not (described.get(name) or "").strip():
                    missing.append((path, "the command " + name))
                missing += undescribed(sub, path + " " + name)
            continue
        if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
            missing.append((path, "/".join(action.option_strings) or action.metavar or action.dest))
    return missing


def commands(parser, path):
    """`(path, parser)` for the parser and each subcommand's, at any depth."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, path + " " + name)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_positional_and_option_has_a_description(name):
    assert undescribed(PARSERS[name](), name) == []


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_help_page_renders_each_description(name):
    for path, parser in commands(PARSERS[name](), name):
        text = parser.format_help()     # a stray % in a help text would raise here
        for action in parser._actions:
            if action.help and not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                assert " ".join(action.help.split()[:2]) in " ".join(text.split()), (path, action.help)


def test_the_walk_finds_a_missing_description():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("thing", help="a thing")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--size", help="how big")
    sub.add_parser("bare")
    assert undescribed(parser, "prog") == [("prog thing", "FILE"), ("prog", "the command bare")]
