-- wrk script of bench/soak.sh: mixed warm and cold requests over the corpus.
-- SOAK_PATHS: first line the number of versions N, then 3 paths per version (.info, .mod, .zip) in a fixed random
-- order, then the list and @latest paths of every module.
-- SOAK_RAMP: seconds over which the versions a request may pick grow from one to all of them. Half of the artifact
-- requests go to the newest eighth of that window (cold while it grows), the rest anywhere in it (mostly warm); one
-- request in five asks for a list or @latest.

local artifacts, answers = {}, {}
local versions, ramp, started = 0, 60, 0
local threads = 0

local function load()
    local file = assert(io.open(os.getenv("SOAK_PATHS"), "r"))
    versions = tonumber(file:read("*l"))
    local i = 0
    for line in file:lines() do
        i = i + 1
        if i <= versions * 3 then
            artifacts[#artifacts + 1] = line
        else
            answers[#answers + 1] = line
        end
    end
    file:close()
    ramp = tonumber(os.getenv("SOAK_RAMP") or "60")
end

function setup(thread)
    threads = threads + 1
    thread:set("seed", threads)
end

function init(args)
    load()
    started = os.time()
    math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
    if math.random() < 0.2 then
        return wrk.format("GET", answers[math.random(#answers)])
    end
    local elapsed = os.time() - started
    local window = math.max(1, math.min(versions, math.floor(versions * elapsed / ramp) + 1))
    local version
    if math.random() < 0.5 then
        local newest = math.max(1, math.floor(window / 8))
        version = window - math.random(newest) + 1
    else
        version = math.random(window)
    end
    return wrk.format("GET", artifacts[(version - 1) * 3 + math.random(3)])
end
