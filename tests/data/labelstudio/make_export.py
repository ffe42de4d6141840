"""Writes export.json: a Label Studio JSON export of two nurses rating the eight responses
of tests/data/promptfoo and of the Inspect log the tests write (items resp001..resp008).

The structure is Label Studio's documented export format (labelstud.io/guide/task_format:
a list of tasks with ``id``, ``data``, ``annotations[]`` each with ``id``, ``result[]``
(``from_name``, ``to_name``, ``type``, ``value``), ``was_cancelled``, ``completed_by``,
``task``) for a labelling config with a ``<Rating name="empathy" toName="response"
maxRating="5"/>``, a ``<Choices name="safety" toName="response">`` of "1".."5" and a
``<TextArea name="comment"/>``. One annotation is cancelled and every task has a comment:
the importer must account for both. Run: python make_export.py
"""

import json

EMPATHY = {"nurse_a": [2, 3, 1, 4, 5, 2, 3, 4], "nurse_b": [2, 2, 1, 4, 4, 3, 3, 5]}
SAFETY = {"nurse_a": [3, 4, 2, 3, 5, 1, 2, 4], "nurse_b": [3, 3, 2, 4, 5, 1, 3, 4]}
USERS = {"nurse_a": 11, "nurse_b": 12}

tasks = []
for i in range(8):
    item = f"resp{i + 1:03d}"
    annotations = []
    for name, uid in USERS.items():
        annotations.append({
            "id": 1000 + 10 * i + uid, "completed_by": uid, "was_cancelled": False, "ground_truth": False,
            "created_at": "2026-12-01T10:00:00.000000Z", "updated_at": "2026-12-01T10:00:00.000000Z",
            "lead_time": 12.5, "task": i + 1, "project": 7, "result_count": 3,
            "result": [
                {"id": f"e{i}{uid}", "from_name": "empathy", "to_name": "response", "type": "rating",
                 "origin": "manual", "value": {"rating": EMPATHY[name][i]}},
                {"id": f"s{i}{uid}", "from_name": "safety", "to_name": "response", "type": "choices",
                 "origin": "manual", "value": {"choices": [str(SAFETY[name][i])]}},
                {"id": f"c{i}{uid}", "from_name": "comment", "to_name": "response", "type": "textarea",
                 "origin": "manual", "value": {"text": ["checked"]}},
            ]})
    if i == 7:  # a third annotator opened the task and cancelled it
        annotations.append({"id": 1999, "completed_by": 13, "was_cancelled": True, "result": [], "task": 8,
                            "project": 7})
    tasks.append({"id": i + 1, "project": 7, "data": {"item": item, "response": f"response text {i + 1}"},
                  "annotations": annotations, "predictions": [], "created_at": "2026-12-01T09:00:00.000000Z",
                  "updated_at": "2026-12-01T10:00:00.000000Z", "inner_id": i + 1, "total_annotations": 2,
                  "cancelled_annotations": 1 if i == 7 else 0, "total_predictions": 0})

with open("export.json", "w", encoding="utf-8") as fh:
    json.dump(tasks, fh, indent=1)
