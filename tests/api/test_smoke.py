from tests.support.factories import TestUser


async def test_profile_is_the_callers(api, user: TestUser) -> None:
    response = await api.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {user.token}"})
    assert response.status_code == 200
    assert response.json()["email"] == user.email
