"""The OpenAI SDK against a running model server: chat, completions, streaming, n, stop and models."""

from __future__ import annotations

from services.model_server.settings import Settings
from tests.integration.model_server.conftest import ServerFactory, sdk
from tests.support.scripted_engine import ScriptedEngine


async def test_chat_completion_through_the_sdk(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    base = server_settings.base_model_name
    with start_server(scripted_engine) as url:
        client = sdk(url, key)
        raw = await client.chat.completions.with_raw_response.create(
            model=base, messages=[{"role": "user", "content": "hello there"}], max_tokens=3
        )
        completion = raw.parse()
    assert raw.headers["x-request-id"]
    assert completion.id == f"chatcmpl-{raw.headers['x-request-id']}"
    assert completion.model == base
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "w0 w1 w2"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 3)
    assert completion.usage.total_tokens == 7
    assert scripted_engine.prompts == ["user: hello there\nassistant:"]


async def test_streamed_chat_ends_with_usage_and_done(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    with start_server(scripted_engine) as url:
        stream = await sdk(url, key).chat.completions.create(
            model=str(server_settings.base_model_name),
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "w0 w1 w2 w3"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (3, 4)
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)


async def test_raw_stream_is_openai_sse_ending_in_done(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    import httpx

    with start_server(scripted_engine) as url:
        async with httpx.AsyncClient() as client:
            body = {"model": server_settings.base_model_name, "prompt": "a b", "max_tokens": 2, "stream": True}
            response = await client.post(f"{url}/v1/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    events = [line for line in response.text.split("\n\n") if line]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"


async def test_n_choices_and_stop_sequences(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    with start_server(scripted_engine) as url:
        client = sdk(url, key)
        several = await client.chat.completions.create(
            model=str(server_settings.base_model_name), messages=[{"role": "user", "content": "x"}], max_tokens=2, n=3
        )
        stopped = await client.completions.create(
            model=str(server_settings.base_model_name), prompt="count", max_tokens=10, stop=["w3"]
        )
        streamed = await client.chat.completions.create(
            model=str(server_settings.base_model_name),
            messages=[{"role": "user", "content": "x"}],
            max_tokens=2,
            n=2,
            stream=True,
        )
        texts: dict[int, str] = {}
        async for chunk in streamed:
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
    assert [c.index for c in several.choices] == [0, 1, 2]
    assert {c.message.content for c in several.choices} == {"w0 w1"}
    assert several.usage is not None
    assert (several.usage.prompt_tokens, several.usage.completion_tokens) == (3, 6)
    assert stopped.object == "text_completion"
    assert stopped.choices[0].text == "w0 w1 w2 "
    assert stopped.choices[0].finish_reason == "stop"
    assert texts == {0: "w0 w1", 1: "w0 w1"}


async def test_completion_with_several_prompts(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    with start_server(scripted_engine) as url:
        completion = await sdk(url, key).completions.create(
            model=str(server_settings.base_model_name), prompt=["one", "two words"], max_tokens=1, n=2
        )
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1 + 2
    assert sorted(scripted_engine.prompts) == ["one", "one", "two words", "two words"]


async def test_models_lists_the_base_model(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    with start_server(scripted_engine) as url:
        models = await sdk(url, key).models.list()
    assert [m.id for m in models.data] == [server_settings.base_model_name]
