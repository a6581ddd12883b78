"""Writes the support corpus the default base model learns from: `python -m llmops_common.models.corpus.generate`.

The text is generated from hand-written pieces with a fixed seed, so the shipped file can be rebuilt byte
for byte and reviewed as a diff. It mixes prose (help-centre articles) with support conversations, the
style the platform's support-assistant examples use.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from . import CORPUS_PATH

SEED = 20261123

PRODUCTS = {
    "Lumen Notes": "a note-taking app that syncs across devices",
    "Harbor Storage": "a cloud storage service for teams",
    "Pinecrest Billing": "an invoicing and subscription tool",
    "Relay Chat": "a team messaging app",
    "Atlas Maps": "a route planning app for delivery drivers",
    "Beacon Analytics": "a dashboard for website traffic",
    "Quill Docs": "a shared document editor",
    "Orbit Calendar": "a scheduling app with shared calendars",
}

TASKS = [
    (
        "reset my password",
        "reset your password",
        [
            "Open the sign-in page and choose Forgot password.",
            "Enter the email address of your account.",
            "Open the email we send you and follow the link within one hour.",
            "Choose a new password of at least twelve characters.",
        ],
    ),
    (
        "export my data",
        "export your data",
        [
            "Open Settings and choose Data.",
            "Select Export and pick the format you want, CSV or JSON.",
            "Wait for the email that says your export is ready.",
            "Download the file from the link in that email; it stays valid for seven days.",
        ],
    ),
    (
        "change the email on my account",
        "change the email on your account",
        [
            "Open Settings and choose Profile.",
            "Select Email and type the new address.",
            "Confirm the change from the message we send to the new address.",
            "Sign in again on your other devices.",
        ],
    ),
    (
        "cancel my subscription",
        "cancel your subscription",
        [
            "Open Settings and choose Billing.",
            "Select Manage plan and then Cancel subscription.",
            "Tell us why you are leaving, if you like; it helps us improve.",
            "Your plan stays active until the end of the current billing period.",
        ],
    ),
    (
        "add a team member",
        "add a team member",
        [
            "Open the Team page from the main menu.",
            "Select Invite and enter your colleague's email address.",
            "Choose a role: viewer, editor or admin.",
            "Your colleague joins as soon as they accept the invitation.",
        ],
    ),
    (
        "turn on two-factor authentication",
        "turn on two-factor authentication",
        [
            "Open Settings and choose Security.",
            "Select Two-factor authentication and then Set up.",
            "Scan the code with an authenticator app on your phone.",
            "Type the six-digit code from the app and save your recovery codes somewhere safe.",
        ],
    ),
    (
        "update my payment card",
        "update your payment card",
        [
            "Open Settings and choose Billing.",
            "Select Payment method and then Replace card.",
            "Enter the new card details and save.",
            "The next invoice is charged to the new card.",
        ],
    ),
    (
        "restore a deleted file",
        "restore a deleted file",
        [
            "Open the Trash from the side menu.",
            "Find the file; deleted files stay there for thirty days.",
            "Select the file and choose Restore.",
            "The file returns to the folder it was deleted from.",
        ],
    ),
    (
        "get an invoice for my company",
        "get an invoice for your company",
        [
            "Open Settings and choose Billing.",
            "Add your company name, address and tax number under Invoice details.",
            "Open Invoices and select the month you need.",
            "Download the invoice as a PDF.",
        ],
    ),
    (
        "connect the app to my calendar",
        "connect the app to your calendar",
        [
            "Open Settings and choose Integrations.",
            "Select Calendar and sign in to your calendar provider.",
            "Allow access when your provider asks.",
            "New events appear within a few minutes.",
        ],
    ),
    (
        "delete my account",
        "delete your account",
        [
            "Export anything you want to keep first.",
            "Open Settings and choose Account.",
            "Select Delete account and confirm with your password.",
            "We remove your data within thirty days, as our privacy policy says.",
        ],
    ),
    (
        "share a folder with a client",
        "share a folder with a client",
        [
            "Open the folder and choose Share.",
            "Enter your client's email address.",
            "Pick whether they can only view or also edit.",
            "Send the invitation; you can remove access at any time.",
        ],
    ),
]

PROBLEMS = [
    (
        "the app keeps logging me out",
        "the app signs you out",
        [
            "check that the date and time on your device are set automatically",
            "clear the app's cache from your device settings",
            "update the app to the latest version",
            "sign out on all devices from Settings, then sign in again",
        ],
    ),
    (
        "sync is not working",
        "changes do not sync",
        [
            "check that your device is online",
            "make sure you are signed in to the same account on every device",
            "pull down on the main screen to sync by hand",
            "restart the app and wait a minute",
        ],
    ),
    (
        "I was charged twice",
        "you see two charges",
        [
            "check whether one of the charges is a pending authorisation, which disappears within five days",
            "compare the invoice numbers under Billing",
            "send us both invoice numbers so we can refund the duplicate",
        ],
    ),
    (
        "the page loads very slowly",
        "pages load slowly",
        [
            "try another browser or a private window",
            "turn off browser extensions one at a time",
            "check our status page for incidents",
            "send us the time it happened and your region",
        ],
    ),
    (
        "I did not get the verification email",
        "the verification email does not arrive",
        [
            "look in your spam or junk folder",
            "add our address to your contacts",
            "wait ten minutes and request a new email",
            "check that the address on your account is spelled correctly",
        ],
    ),
    (
        "uploads fail halfway",
        "uploads stop before they finish",
        [
            "check that the file is under the size limit of your plan",
            "use a wired connection if you can",
            "rename files that contain unusual characters",
            "try the desktop app, which resumes interrupted uploads",
        ],
    ),
    (
        "notifications stopped",
        "notifications no longer arrive",
        [
            "check that notifications are allowed for the app in your device settings",
            "open Settings in the app and turn notifications off and on again",
            "make sure do-not-disturb is off",
        ],
    ),
    (
        "the export file is empty",
        "an export comes out empty",
        [
            "check that the date range of the export covers your data",
            "make sure you have permission to see the items you export",
            "run the export again after a few minutes",
        ],
    ),
]

GREETINGS = ["Hi", "Hello", "Hey there", "Good morning", "Hi team", "Hello support"]
OPENERS = [
    "Thanks for reaching out.",
    "Thanks for getting in touch.",
    "Happy to help with that.",
    "Sorry for the trouble.",
    "Good question.",
    "I can help with that.",
]
CLOSERS = [
    "Let me know if anything is unclear.",
    "If that does not help, reply here and we will look into it together.",
    "Have a good day.",
    "I hope that helps.",
    "Feel free to ask if you have more questions.",
]
FACTS = [
    (
        "What plans do you offer?",
        "We offer three plans: Free, Team and Business. Free is for one person, "
        "Team adds shared spaces and admin controls, and Business adds single sign-on and priority support.",
    ),
    (
        "Is my data encrypted?",
        "Yes. Your data is encrypted in transit with TLS and at rest with AES-256. "
        "Only you and the people you share with can see your content.",
    ),
    (
        "Do you have a mobile app?",
        "Yes, there are apps for iPhone and Android. They sync with the web app, "
        "so you can start on one device and finish on another.",
    ),
    (
        "Can I get a refund?",
        "If you cancel within fourteen days of a payment, we refund it in full. After "
        "that, your plan stays active until the end of the period and is not renewed.",
    ),
    (
        "How do I contact support?",
        "You can write to us from the Help menu in the app, and a person answers "
        "within one working day. Business customers can also call us.",
    ),
    (
        "Where are your servers?",
        "Our servers are in the European Union and in the United States. You can "
        "choose the region of your workspace when you create it.",
    ),
    (
        "What happens when my trial ends?",
        "When the trial ends, your workspace moves to the Free plan. Nothing "
        "is deleted, and you can upgrade at any time to get the paid features back.",
    ),
    (
        "Can I use the app offline?",
        "Yes. The apps keep your recent items on the device, and changes you make "
        "offline sync as soon as you are back online.",
    ),
]


def steps_text(steps: list[str]) -> str:
    """Numbered steps, one a line."""
    return "\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1))


def how_to_article(rng: random.Random, product: str, about: str) -> str:
    """A help-centre article on one task."""
    _, topic, steps = rng.choice(TASKS)
    return (
        f"How to {topic} in {product}\n\n"
        f"{product} is {about}. This article explains how to {topic}.\n\n{steps_text(steps)}\n\n"
        f"{rng.choice(CLOSERS)}"
    )


def troubleshooting_article(rng: random.Random, product: str) -> str:
    """A help-centre article on one problem."""
    _, symptom, fixes = rng.choice(PROBLEMS)
    chosen = rng.sample(fixes, k=min(len(fixes), rng.randint(2, 4)))
    lines = "\n".join(f"- {fix[0].upper()}{fix[1:]}." for fix in chosen)
    return (
        f"When {symptom} in {product}\n\n"
        f"If {symptom}, try these steps in order. Most problems are solved by the first two.\n\n{lines}\n\n"
        f"If {symptom} after all of these, contact support and tell us what you tried."
    )


def task_conversation(rng: random.Random, product: str) -> list[dict[str, str]]:
    """A customer asks how to do something."""
    ask, topic, steps = rng.choice(TASKS)
    question = f"{rng.choice(GREETINGS)}, how do I {ask} in {product}?"
    answer = f"{rng.choice(OPENERS)} To {topic}:\n{steps_text(steps)}\n{rng.choice(CLOSERS)}"
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def problem_conversation(rng: random.Random, product: str) -> list[dict[str, str]]:
    """A customer reports a problem."""
    complaint, symptom, fixes = rng.choice(PROBLEMS)
    fix = rng.choice(fixes)
    question = f"{rng.choice(GREETINGS)}, {complaint} in {product}. What can I do?"
    answer = (
        f"{rng.choice(OPENERS)} When {symptom}, first {fix}. "
        f"If that does not help, {rng.choice([f for f in fixes if f != fix])}. {rng.choice(CLOSERS)}"
    )
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def fact_conversation(rng: random.Random, product: str) -> list[dict[str, str]]:
    """A customer asks a general question, sometimes with a system prompt."""
    question, answer = rng.choice(FACTS)
    messages = [
        {"role": "user", "content": f"{question.rstrip('?')} for {product}?"},
        {"role": "assistant", "content": f"{rng.choice(OPENERS)} {answer}"},
    ]
    if rng.random() < 0.3:
        system = f"You are the support assistant of {product}. Answer briefly and kindly."
        messages.insert(0, {"role": "system", "content": system})
    return messages


def documents(count: int = 1000) -> list[dict[str, object]]:
    """The corpus: prose articles and conversations, reproducible from `SEED`."""
    rng = random.Random(SEED)  # noqa: S311 - a reproducible corpus, not a secret
    out: list[dict[str, object]] = []
    for _ in range(count):
        product = rng.choice(sorted(PRODUCTS))
        kind = rng.random()
        if kind < 0.2:
            out.append({"text": how_to_article(rng, product, PRODUCTS[product])})
        elif kind < 0.35:
            out.append({"text": troubleshooting_article(rng, product)})
        elif kind < 0.6:
            out.append({"messages": task_conversation(rng, product)})
        elif kind < 0.85:
            out.append({"messages": problem_conversation(rng, product)})
        else:
            out.append({"messages": fact_conversation(rng, product)})
    return out


def write(path: Path = CORPUS_PATH) -> Path:
    """Writes the corpus as JSON lines: `{"text": ...}` for prose, `{"messages": [...]}` for chats."""
    lines = [json.dumps(document, ensure_ascii=False, sort_keys=True) for document in documents()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
