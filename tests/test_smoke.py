from httpx import AsyncClient

from tests.factories import World, login, published_quiz


async def test_healthz_and_readyz(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


async def test_whole_flow(client: AsyncClient, world: World) -> None:
    quiz_id = await published_quiz(client, world)
    officer = await login(client, "officer1")
    started = await client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=officer)
    assert started.status_code == 201, started.text
    attempt = started.json()
    assert len(attempt["items"]) == 5
    item = next(i for i in attempt["items"] if i["type"] == "single")
    saved = await client.put(
        f"/api/v1/attempts/{attempt['id']}/items/{item['id']}",
        json={"response": item["options"][0]["id"], "seq": 1},
        headers=officer,
    )
    assert saved.status_code == 200, saved.text
    result = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=officer)
    assert result.status_code == 200, result.text
    assert result.json()["max_score"] == 8.0
