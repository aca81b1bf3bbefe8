"""Public serializers of the base app: sessions and handling units, their public fields only."""

from __future__ import annotations

from rest_framework import serializers

from proposals.models import Session, Unit


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = ["id", "district", "term", "meeting", "name", "year", "opens_on", "closes_on"]
        read_only_fields = fields


class SessionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = ["id", "district", "name"]
        read_only_fields = fields


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "organ_name", "is_active"]
        read_only_fields = fields


class UnitBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "short_name"]
        read_only_fields = fields
