"""A unit's district (issue 19, part 6): the assign form groups units by it and warns when a
proposal goes to another district's unit.

Existing units get the district their letterhead or name states ("上海市长宁区…" → 长宁); the
others (a municipal body, a unit named without its district) stay empty, which never warns.
The list and the rule are frozen here: the model's may change later.
"""

from django.db import migrations, models

DISTRICTS = (
    "黄浦", "徐汇", "长宁", "静安", "普陀", "虹口", "杨浦", "闵行",
    "宝山", "嘉定", "浦东", "金山", "松江", "青浦", "奉贤", "崇明",
)  # fmt: skip


def _named_in(*names):
    for name in names:
        text = (name or "").removeprefix("上海市")
        for district in DISTRICTS:
            if text.startswith((f"{district}区", f"{district}新区")):
                return district
    return ""


def fill_districts(apps, schema_editor):
    Unit = apps.get_model("proposals", "Unit")
    for unit in Unit.objects.filter(district="").only("pk", "name", "organ_name"):
        district = _named_in(unit.organ_name, unit.name)
        if district:
            Unit.objects.filter(pk=unit.pk).update(district=district)


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0013_calendar_year"),
    ]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="district",
            field=models.CharField(
                blank=True,
                help_text="例如：长宁。留空则按发文机关标志中的区名填写（如“上海市长宁区…”）。",
                max_length=20,
                verbose_name="所属区",
            ),
        ),
        migrations.RunPython(fill_districts, migrations.RunPython.noop),
    ]
